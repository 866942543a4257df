import { useState } from 'react';
import { useCreateTeam, useTeams, useUpdateTeam, useUsers } from '../../../api/workspace.js';
import type { Member, Team } from '../../../api/types.js';
import { Empty, ErrorState, InlineError, Loading } from '../../../components/States.js';
import { useWorkspace } from '../../../lib/workspace.js';

export function TeamsScreen() {
  const { ws } = useWorkspace();
  const teams = useTeams(ws);
  const users = useUsers(ws);
  const create = useCreateTeam(ws);
  const [name, setName] = useState('');
  const [members, setMembers] = useState<string[]>([]);
  const [editing, setEditing] = useState<string | null>(null);
  const names = new Map((users.data ?? []).map((u) => [u.id, u.name]));
  return (
    <div>
      <h1>Teams</h1>
      {teams.isPending ? (
        <Loading />
      ) : teams.isError ? (
        <ErrorState error={teams.error} retry={() => teams.refetch()} />
      ) : teams.data.length === 0 ? (
        <Empty title="No teams yet" />
      ) : (
        <ul className="plain-list">
          {teams.data.map((t) => (
            <li key={t.id}>
              {editing === t.id ? (
                <EditTeam team={t} users={users.data ?? []} onDone={() => setEditing(null)} />
              ) : (
                <>
                  <strong>{t.name}</strong> <span className="muted">{t.memberIds.map((id) => names.get(id) ?? '?').join(', ') || 'no members'}</span>{' '}
                  <button type="button" className="btn btn-small" onClick={() => setEditing(t.id)} aria-label={`Edit team ${t.name}`}>
                    Edit
                  </button>
                </>
              )}
            </li>
          ))}
        </ul>
      )}
      <h2>New team</h2>
      <form
        className="stack-form"
        onSubmit={(e) => {
          e.preventDefault();
          create.mutate(
            { name: name.trim(), memberIds: members },
            {
              onSuccess: () => {
                setName('');
                setMembers([]);
              },
            },
          );
        }}
      >
        <input aria-label="Team name" placeholder="Team name" value={name} onChange={(e) => setName(e.target.value)} required maxLength={100} />
        <fieldset>
          <legend>Members</legend>
          {(users.data ?? [])
            .filter((u) => u.role !== 'client_viewer')
            .map((u) => (
              <label key={u.id} className="check">
                <input type="checkbox" checked={members.includes(u.id)} onChange={(e) => setMembers(e.target.checked ? [...members, u.id] : members.filter((m) => m !== u.id))} /> {u.name}
              </label>
            ))}
        </fieldset>
        <button type="submit" className="btn btn-primary" disabled={create.isPending}>
          Create team
        </button>
        <InlineError error={create.error} />
      </form>
    </div>
  );
}

/** Rename a team and change its members; saved as one PATCH with the members added and removed. */
function EditTeam({ team, users, onDone }: { team: Team; users: Member[]; onDone: () => void }) {
  const { ws } = useWorkspace();
  const update = useUpdateTeam(ws);
  const [name, setName] = useState(team.name);
  const [members, setMembers] = useState<string[]>(team.memberIds);
  return (
    <form
      className="stack-form"
      aria-label={`Edit team ${team.name}`}
      onSubmit={(e) => {
        e.preventDefault();
        const addMemberIds = members.filter((m) => !team.memberIds.includes(m));
        const removeMemberIds = team.memberIds.filter((m) => !members.includes(m));
        update.mutate(
          { id: team.id, ...(name.trim() !== team.name ? { name: name.trim() } : {}), ...(addMemberIds.length ? { addMemberIds } : {}), ...(removeMemberIds.length ? { removeMemberIds } : {}) },
          { onSuccess: onDone },
        );
      }}
    >
      <input aria-label="New team name" value={name} onChange={(e) => setName(e.target.value)} required maxLength={100} />
      <fieldset>
        <legend>Members</legend>
        {users
          .filter((u) => u.role !== 'client_viewer' || members.includes(u.id))
          .map((u) => (
            <label key={u.id} className="check">
              <input type="checkbox" value={u.id} checked={members.includes(u.id)} onChange={(e) => setMembers(e.target.checked ? [...members, u.id] : members.filter((m) => m !== u.id))} /> {u.name}
            </label>
          ))}
      </fieldset>
      <div>
        <button type="submit" className="btn btn-primary" disabled={update.isPending}>
          Save team
        </button>{' '}
        <button type="button" className="btn" onClick={onDone}>
          Cancel
        </button>
      </div>
      <InlineError error={update.error} />
    </form>
  );
}
