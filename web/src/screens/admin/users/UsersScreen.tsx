import { useCapabilities } from '../../../api/session.js';
import { useState, type FormEvent } from 'react';
import type { Role } from '../../../api/types.js';
import { useCreateInvitation, useInvitations, useRemoveUser, useRevokeInvitation, useUpdateUserRole, useUsers } from '../../../api/workspace.js';
import { Empty, ErrorState, InlineError, Loading } from '../../../components/States.js';
import { useWorkspace } from '../../../lib/workspace.js';

const ROLES: Role[] = ['owner', 'admin', 'supervisor', 'agent', 'client_viewer'];

export function UsersScreen() {
  const { ws, user, role: myRole } = useWorkspace();
  const users = useUsers(ws);
  const updateRole = useUpdateUserRole(ws);
  const remove = useRemoveUser(ws);
  const assignable = myRole === 'owner' ? ROLES : ROLES.filter((r) => r !== 'owner');
  return (
    <div>
      <h1>Users</h1>
      {users.isPending ? (
        <Loading />
      ) : users.isError ? (
        <ErrorState error={users.error} retry={() => users.refetch()} />
      ) : (
        <table className="table">
          <thead>
            <tr>
              <th>Name</th>
              <th>Email</th>
              <th>Role</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {users.data.map((u) => (
              <tr key={u.id}>
                <td>{u.name}</td>
                <td>{u.email}</td>
                <td>
                  <select
                    aria-label={`Role of ${u.name}`}
                    value={u.role}
                    disabled={u.id === user.id || updateRole.isPending}
                    onChange={(e) => updateRole.mutate({ id: u.id, role: e.target.value as Role })}
                  >
                    {(assignable.includes(u.role) ? assignable : [u.role, ...assignable]).map((r) => (
                      <option key={r} value={r}>
                        {r.replace('_', ' ')}
                      </option>
                    ))}
                  </select>
                </td>
                <td>
                  {u.id !== user.id ? (
                    <button type="button" className="btn btn-small" disabled={remove.isPending} onClick={() => confirm(`Remove ${u.name} from this workspace?`) && remove.mutate(u.id)}>
                      Remove
                    </button>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <InlineError error={updateRole.error ?? remove.error} />
      <Invitations roles={assignable} />
    </div>
  );
}

function Invitations({ roles }: { roles: Role[] }) {
  const { ws } = useWorkspace();
  const invitations = useInvitations(ws);
  const create = useCreateInvitation(ws);
  const revoke = useRevokeInvitation(ws);
  const capabilities = useCapabilities();
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<Role>('agent');
  if (invitations.data === null) return null;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate({ email: email.trim(), role }, { onSuccess: () => setEmail('') });
  };
  return (
    <>
      <h2>Add people</h2>
      <p className="muted">
        People join by invitation: Rapport emails them a link (or, when this server cannot send email, gives you the link to pass on), and they choose their own password (or join with the account they
        already have, signed in). Nobody here can set or see another person&apos;s password.
      </p>
      {capabilities.data?.canSendEmail === false ? (
        <p className="notice" role="note">
          This server cannot send email yet: when you invite someone, you get their link to pass on yourself, and nobody can reset a forgotten password by email. The person who runs Rapport can set
          its mail relay (EMAIL_VERIFICATION_SMTP_URL).
        </p>
      ) : null}
      <h3>Pending invitations</h3>
      {invitations.isPending ? (
        <Loading />
      ) : invitations.isError ? (
        <ErrorState error={invitations.error} />
      ) : invitations.data.length === 0 ? (
        <Empty title="No pending invitations" />
      ) : (
        <ul className="plain-list">
          {invitations.data.map((i) => (
            <li key={i.id}>
              {i.email} <span className="muted">{i.role}</span>{' '}
              <button type="button" className="btn btn-small" onClick={() => revoke.mutate(i.id)}>
                Revoke
              </button>
            </li>
          ))}
        </ul>
      )}
      {create.data?.delivery === 'emailed' ? (
        <p className="notice" role="status">
          Invitation emailed to {create.data.email}. The link in it works once, for 72 hours.
        </p>
      ) : create.data?.acceptUrl ? (
        <div className="notice" role="status">
          <p>
            Invitation link for {create.data.email} (shown only this once): <code>{create.data.acceptUrl}</code>
          </p>
          <p>
            Pass it on to them privately (not in a shared channel): whoever opens it first joins as this person. This server has no mail relay set, so it cannot email the link itself; the person who
            runs Rapport can set one (EMAIL_VERIFICATION_SMTP_URL) and Rapport will email invitations from then on.
          </p>
        </div>
      ) : null}
      <form className="inline-form" onSubmit={submit}>
        <input type="email" aria-label="Email to invite" placeholder="email@company.com" value={email} onChange={(e) => setEmail(e.target.value)} required />
        <select aria-label="Role" value={role} onChange={(e) => setRole(e.target.value as Role)}>
          {roles.map((r) => (
            <option key={r} value={r}>
              {r.replace('_', ' ')}
            </option>
          ))}
        </select>
        <button type="submit" className="btn btn-primary" disabled={create.isPending}>
          Invite
        </button>
      </form>
      <InlineError error={create.error ?? revoke.error} />
    </>
  );
}
