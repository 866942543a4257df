import { useState } from 'react';
import { useCreateInbox, useInboxes, useUpdateInbox } from '../../../api/workspace.js';
import type { Inbox } from '../../../api/types.js';
import { useEmailOwnership, useSendEmailConfirmation, useVerifyEmailDomain } from '../../../api/email.js';
import { Empty, ErrorState, InlineError, Loading } from '../../../components/States.js';
import { navigate } from '../../../lib/router.js';
import { useWorkspace } from '../../../lib/workspace.js';

export function InboxesScreen() {
  const { ws } = useWorkspace();
  const inboxes = useInboxes(ws);
  const create = useCreateInbox(ws);
  const [name, setName] = useState('');
  const [channel, setChannel] = useState('api');
  const [email, setEmail] = useState(EMPTY_EMAIL);
  return (
    <div>
      <h1>Inboxes</h1>
      {inboxes.isPending ? (
        <Loading />
      ) : inboxes.isError ? (
        <ErrorState error={inboxes.error} retry={() => inboxes.refetch()} />
      ) : inboxes.data.length === 0 ? (
        <Empty title="No inboxes yet" />
      ) : (
        <table className="table">
          <thead>
            <tr>
              <th>Name</th>
              <th>Channel</th>
              <th>Created</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {inboxes.data.map((i) => (
              <tr key={i.id}>
                <td>
                  <InboxName inbox={i} />
                </td>
                <td>
                  <span className="badge channel">{i.channel}</span> {i.disabledAt ? <span className="badge badge-warning">Disabled</span> : null}
                </td>
                <td>{new Date(i.createdAt).toLocaleDateString()}</td>
                <td>
                  <a
                    className="btn btn-small"
                    href={`/w/${ws}/admin/inboxes/${i.id}`}
                    onClick={(e) => {
                      e.preventDefault();
                      navigate(`/w/${ws}/admin/inboxes/${i.id}`);
                    }}
                  >
                    Settings
                  </a>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {inboxes.data
        ?.filter((i) => i.channel === 'email')
        .map((i) => (
          <EmailOwnershipPanel key={i.id} inbox={i} />
        ))}
      <h2>New inbox</h2>
      <form
        className="stack-form"
        onSubmit={(e) => {
          e.preventDefault();
          create.mutate(
            { name: name.trim(), channel, ...(channel === 'email' ? { settings: emailSettings(email) } : {}) },
            {
              onSuccess: () => {
                setName('');
                setEmail(EMPTY_EMAIL);
              },
            },
          );
        }}
      >
        <div className="inline-form">
          <input aria-label="Inbox name" placeholder="Name" value={name} onChange={(e) => setName(e.target.value)} required maxLength={100} />
          <select aria-label="Channel" value={channel} onChange={(e) => setChannel(e.target.value)}>
            <option value="api">API</option>
            <option value="email">Email</option>
          </select>
        </div>
        {channel === 'email' ? <EmailFields value={email} onChange={setEmail} /> : null}
        <div>
          <button type="submit" className="btn btn-primary" disabled={create.isPending}>
            Create
          </button>
        </div>
      </form>
      <InlineError error={create.error} />
    </div>
  );
}

const VERIFIED_BY: Record<string, string> = {
  existing: 'received mail before verification was required',
  link: 'confirmed by the link sent to the address',
  dns: 'proven by the DNS record',
  operator: 'set up by the server operator',
};

/**
 * Which addresses and catch-all domains of an email inbox are proven (SECURITY H2). Mail to a
 * pending one is refused as if the address did not exist here, so the screen says how to prove it:
 * the confirmation link mailed to the address, or the TXT record to publish on the domain.
 */
export function EmailOwnershipPanel({ inbox }: { inbox: Inbox }) {
  const { ws } = useWorkspace();
  const ownership = useEmailOwnership(ws, inbox.id);
  const send = useSendEmailConfirmation(ws, inbox.id);
  const verify = useVerifyEmailDomain(ws, inbox.id);
  if (ownership.isPending) return <Loading />;
  if (ownership.isError) return <ErrorState error={ownership.error} retry={() => ownership.refetch()} />;
  const { items, dnsRecords, confirmationEmail } = ownership.data;
  const pending = dnsRecords.filter((r) => r.pending);
  return (
    <section aria-label={`Email addresses of ${inbox.name}`}>
      <h2>Email addresses of {inbox.name}</h2>
      <p className="muted">Mail reaches this inbox only through verified addresses and domains. Mail to a pending one is refused, as if the address did not exist here, until you prove it is yours.</p>
      <table className="table">
        <thead>
          <tr>
            <th>Address or catch-all domain</th>
            <th>Status</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {items.map((c) => (
            <tr key={`${c.kind}:${c.value}`}>
              <td>
                {c.kind === 'domain' ? (
                  <>
                    any address at <strong>{c.value}</strong>
                  </>
                ) : (
                  c.value
                )}
              </td>
              <td>
                {c.status === 'verified' ? (
                  <span className="badge" title={c.verifiedBy ? VERIFIED_BY[c.verifiedBy] : undefined}>
                    Verified
                  </span>
                ) : (
                  <span className="badge badge-warning">Pending</span>
                )}
                {c.status === 'pending' && c.confirmationSentAt ? <span className="muted"> confirmation sent {new Date(c.confirmationSentAt).toLocaleString()}</span> : null}
              </td>
              <td>
                {c.status === 'pending' && c.kind === 'address' && confirmationEmail ? (
                  <button type="button" className="btn btn-small" disabled={send.isPending} onClick={() => send.mutate(c.value)} aria-label={`Send confirmation email to ${c.value}`}>
                    {c.confirmationSentAt ? 'Send again' : 'Send confirmation email'}
                  </button>
                ) : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <InlineError error={send.error} />
      {pending.length ? (
        <>
          <p>
            {confirmationEmail ? 'Confirm an address with the link we email to it, or prove' : 'Prove'} a whole domain by publishing this DNS TXT record (at the name shown, or at the domain itself),
            then check it:
          </p>
          {confirmationEmail ? (
            <p className="muted">
              If this address already receives mail in another Rapport workspace, prove it with the DNS record: no confirmation email is sent to it, since that other workspace would receive the link.
            </p>
          ) : null}
          <ul className="plain-list">
            {pending.map((r) => (
              <li key={r.domain}>
                <strong>{r.domain}</strong>: TXT record at <code>{r.name}</code> with the value <code>{r.value}</code>{' '}
                <button type="button" className="btn btn-small" disabled={verify.isPending} onClick={() => verify.mutate(r.domain)} aria-label={`Check DNS record of ${r.domain}`}>
                  Check DNS
                </button>
              </li>
            ))}
          </ul>
          <InlineError error={verify.error} />
        </>
      ) : null}
    </section>
  );
}

/** The inbox's name, renamed in place (admin); every other setting is on the inbox's settings page. */
function InboxName({ inbox }: { inbox: Inbox }) {
  const { ws } = useWorkspace();
  const update = useUpdateInbox(ws);
  const [name, setName] = useState<string | null>(null);
  if (name === null) {
    return (
      <>
        {inbox.name}{' '}
        <button type="button" className="btn btn-small" aria-label={`Rename inbox ${inbox.name}`} onClick={() => setName(inbox.name)}>
          Rename
        </button>
      </>
    );
  }
  return (
    <form
      className="inline-form"
      onSubmit={(e) => {
        e.preventDefault();
        update.mutate({ id: inbox.id, name: name.trim() }, { onSuccess: () => setName(null) });
      }}
    >
      <input aria-label="New inbox name" value={name} onChange={(e) => setName(e.target.value)} required maxLength={100} />
      <button type="submit" className="btn btn-primary btn-small" disabled={update.isPending}>
        Save
      </button>
      <button type="button" className="btn btn-small" onClick={() => setName(null)}>
        Cancel
      </button>
      <InlineError error={update.error} />
    </form>
  );
}

interface ServerFields {
  host: string;
  port: string;
  tls: string;
  user: string;
  password: string;
}
interface EmailForm {
  addresses: string;
  catchAllDomains: string;
  smtp: ServerFields;
  imap: ServerFields;
}
const EMPTY_SERVER: ServerFields = { host: '', port: '', tls: 'starttls', user: '', password: '' };
const EMPTY_EMAIL: EmailForm = { addresses: '', catchAllDomains: '', smtp: EMPTY_SERVER, imap: { ...EMPTY_SERVER, tls: 'implicit' } };

const list = (text: string) =>
  text
    .split(/[\s,;]+/)
    .map((v) => v.trim())
    .filter(Boolean);

/** A server block is sent only when its host is filled in; the server checks every field (422 otherwise). */
function server(f: ServerFields) {
  if (!f.host.trim()) return undefined;
  return {
    host: f.host.trim(),
    tls: f.tls,
    ...(f.port.trim() ? { port: Number(f.port) } : {}),
    ...(f.user.trim() ? { user: f.user.trim() } : {}),
    ...(f.password ? { password: f.password } : {}),
  };
}

export function emailSettings(f: EmailForm): Record<string, unknown> {
  const smtp = server(f.smtp);
  const imap = server(f.imap);
  return { addresses: list(f.addresses), catchAllDomains: list(f.catchAllDomains), ...(smtp ? { smtp } : {}), ...(imap ? { imap } : {}) };
}

/** What an email inbox needs: the addresses it receives for, and optionally its SMTP (replies) and IMAP (polling) servers. */
function EmailFields({ value, onChange }: { value: EmailForm; onChange: (v: EmailForm) => void }) {
  const serverFields = (kind: 'smtp' | 'imap', legend: string) => {
    const f = value[kind];
    const set = (patch: Partial<ServerFields>) => onChange({ ...value, [kind]: { ...f, ...patch } });
    return (
      <fieldset>
        <legend>{legend}</legend>
        <div className="inline-form">
          <input aria-label={`${kind.toUpperCase()} host`} placeholder="host" value={f.host} onChange={(e) => set({ host: e.target.value })} maxLength={253} />
          <input aria-label={`${kind.toUpperCase()} port`} placeholder="port" inputMode="numeric" pattern="[0-9]{1,5}" value={f.port} onChange={(e) => set({ port: e.target.value })} />
          <select aria-label={`${kind.toUpperCase()} TLS`} value={f.tls} onChange={(e) => set({ tls: e.target.value })}>
            <option value="implicit">TLS</option>
            <option value="starttls">STARTTLS</option>
            <option value="none">none</option>
          </select>
          <input aria-label={`${kind.toUpperCase()} user`} placeholder="user" value={f.user} onChange={(e) => set({ user: e.target.value })} maxLength={500} autoComplete="off" />
          <input
            aria-label={`${kind.toUpperCase()} password`}
            placeholder="password"
            type="password"
            value={f.password}
            onChange={(e) => set({ password: e.target.value })}
            maxLength={500}
            autoComplete="new-password"
          />
        </div>
      </fieldset>
    );
  };
  return (
    <>
      <input aria-label="Addresses" placeholder="support@example.com, help@example.com" value={value.addresses} onChange={(e) => onChange({ ...value, addresses: e.target.value })} required />
      <input aria-label="Catch-all domains" placeholder="catch-all domains (optional)" value={value.catchAllDomains} onChange={(e) => onChange({ ...value, catchAllDomains: e.target.value })} />
      {serverFields('smtp', 'Outgoing mail (SMTP) for replies')}
      {serverFields('imap', 'Poll a mailbox over IMAP (optional)')}
      <p className="muted mail-server-hint">
        Mail servers must be reachable on the public internet: Rapport does not connect to private, loopback or link-local addresses, unless your operator allows your own relay's network
        (OUTBOUND_ALLOWED_NETWORKS).
      </p>
    </>
  );
}
