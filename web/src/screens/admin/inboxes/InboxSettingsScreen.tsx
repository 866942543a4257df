import { useState } from 'react';
import { ApiError } from '../../../api/client.js';
import { useEmailReceiving, useSendSmtpTest, useTestImap } from '../../../api/email.js';
import type { Inbox } from '../../../api/types.js';
import { useDeleteInbox, useDisableInbox, useEnableInbox, useInbox, useUpdateInbox } from '../../../api/workspace.js';
import { ErrorState, fieldSentences, Loading } from '../../../components/States.js';
import { navigate } from '../../../lib/router.js';
import { useWorkspace } from '../../../lib/workspace.js';
import { EmailOwnershipPanel } from './InboxesScreen.js';

/** How the server hides a stored secret; sent back, it keeps the stored one. */
const MASK = '********';

/** Names of settings as a person reads them (the server's messages name fields by their path). */
const FIELD_NAMES: [RegExp, string][] = [
  [/\bsmtp\.host\b/g, 'the SMTP host'],
  [/\bsmtp\.port\b/g, 'the SMTP port'],
  [/\bsmtp\.tls\b/g, 'the SMTP security setting'],
  [/\bsmtp\.user\b/g, 'the SMTP user name'],
  [/\bsmtp\.password\b/g, 'the SMTP password'],
  [/\bimap\.host\b/g, 'the IMAP host'],
  [/\bimap\.port\b/g, 'the IMAP port'],
  [/\bimap\.tls\b/g, 'the IMAP security setting'],
  [/\bimap\.user\b/g, 'the IMAP user name'],
  [/\bimap\.password\b/g, 'the IMAP password'],
  [/\bimap\.mailbox\b/g, 'the IMAP folder'],
  [/\bimap\.moveTo\b/g, 'the folder to move fetched mail to'],
  [/\baddresses\[(\d+)\]/g, 'address $1'],
  [/\bcatchAllDomains\[(\d+)\]/g, 'catch-all domain $1'],
  [/\bautoAck\.subject\b/g, 'the acknowledgement subject'],
  [/\bautoAck\.body\b/g, 'the acknowledgement text'],
  [/\bfromName\b/g, 'the From name'],
  [/\bsettings\.?/g, ''],
];

function inPlainWords(text: string): string {
  const said = FIELD_NAMES.reduce((t, [re, name]) => t.replace(re, (...m) => name.replace('$1', String(Number(m[1]) + 1))), text).trim();
  return said.charAt(0).toUpperCase() + said.slice(1);
}

/** What went wrong, in people's words: the server's coded message with field paths named as the form names them. */
export function settingsError(error: unknown): string {
  if (!(error instanceof ApiError)) return 'Something went wrong. Try again.';
  if (error.status === 403) return 'Only admins can change inbox settings.';
  if (error.code === 'outbound.forbidden_address') {
    const where = error.fieldErrors[0] ? `${inPlainWords(error.fieldErrors[0].path)} is` : 'That server is';
    return `${where} on a private, loopback or local network, which Rapport does not connect to. Use the mail server's public name, or ask your operator to allow your relay's network.`;
  }
  if (error.code === 'outbound.unresolvable') return 'That server name could not be found. Check the spelling of the host.';
  // The server words each refused field as a sentence (src/http/validation-messages.ts).
  if (error.fieldErrors.length) return inPlainWords(fieldSentences(error));
  return inPlainWords(error.message);
}

function Problem({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <div className="inline-error" role="alert">
      {settingsError(error)}
    </div>
  );
}

type Tls = 'implicit' | 'starttls' | 'none';
interface SmtpForm {
  host: string;
  port: string;
  tls: Tls;
  user: string;
  password: string;
  /** A password is stored (shown masked): left empty, the stored one is kept. */
  stored: boolean;
}
interface ImapForm extends SmtpForm {
  mailbox: string;
  afterFetch: 'seen' | 'move';
  moveTo: string;
}
interface Form {
  name: string;
  addresses: string;
  catchAllDomains: string;
  fromName: string;
  smtp: SmtpForm;
  receiving: 'mx' | 'imap';
  imap: ImapForm;
  ack: { enabled: boolean; subject: string; body: string };
}

interface ServerSettings {
  host: string;
  port: number;
  tls: Tls;
  user: string | null;
  password: string | null;
}
interface EmailSettings {
  addresses: string[];
  catchAllDomains: string[];
  fromName: string | null;
  smtp: ServerSettings | null;
  imap: (ServerSettings & { mailbox: string; afterFetch: 'seen' | 'move'; moveTo: string | null }) | null;
  autoAck: { enabled: boolean; subject: string; body: string } | null;
}

const DEFAULT_ACK_SUBJECT = 'We received your message [#{{number}}]';

function formOf(inbox: Inbox): Form {
  const s = (inbox.settings ?? {}) as unknown as EmailSettings;
  const server = (v: ServerSettings | null, tls: Tls): SmtpForm => ({
    host: v?.host ?? '',
    port: v ? String(v.port) : '',
    tls: v?.tls ?? tls,
    user: v?.user ?? '',
    password: '',
    stored: v?.password === MASK,
  });
  return {
    name: inbox.name,
    addresses: (s.addresses ?? []).join(', '),
    catchAllDomains: (s.catchAllDomains ?? []).join(', '),
    fromName: s.fromName ?? '',
    smtp: server(s.smtp, 'starttls'),
    receiving: s.imap ? 'imap' : 'mx',
    imap: { ...server(s.imap, 'implicit'), mailbox: s.imap?.mailbox ?? 'INBOX', afterFetch: s.imap?.afterFetch ?? 'seen', moveTo: s.imap?.moveTo ?? '' },
    ack: { enabled: s.autoAck?.enabled ?? false, subject: s.autoAck?.subject ?? DEFAULT_ACK_SUBJECT, body: s.autoAck?.body ?? '' },
  };
}

const list = (text: string) =>
  text
    .split(/[\s,;]+/)
    .map((v) => v.trim())
    .filter(Boolean);

/** A server block as the API takes it; an empty password with one stored sends the mask back (the stored one is kept). */
function serverOf(f: SmtpForm) {
  if (!f.host.trim()) return null;
  const password = f.password ? f.password : f.stored ? MASK : undefined;
  return {
    host: f.host.trim(),
    tls: f.tls,
    ...(f.port.trim() ? { port: Number(f.port) } : {}),
    ...(f.user.trim() ? { user: f.user.trim() } : {}),
    ...(password ? { password } : {}),
  };
}

function imapOf(f: ImapForm) {
  const base = serverOf(f);
  if (!base) return null;
  return { ...base, mailbox: f.mailbox.trim() || 'INBOX', afterFetch: f.afterFetch, ...(f.afterFetch === 'move' ? { moveTo: f.moveTo.trim() } : {}) };
}

function settingsOf(f: Form): Record<string, unknown> {
  const ackUsed = f.ack.enabled || f.ack.body.trim() !== '';
  return {
    addresses: list(f.addresses),
    catchAllDomains: list(f.catchAllDomains),
    fromName: f.fromName.trim() || null,
    smtp: serverOf(f.smtp),
    imap: f.receiving === 'imap' ? imapOf(f.imap) : null,
    autoAck: ackUsed ? { enabled: f.ack.enabled, subject: f.ack.subject.trim() || DEFAULT_ACK_SUBJECT, body: f.ack.body } : null,
  };
}

/** The acknowledgement as a customer would read it (sample values for the placeholders). */
function fillTemplate(text: string) {
  return text.replaceAll('{{number}}', '1042').replaceAll('{{name}}', 'Ann Example').replaceAll('{{subject}}', 'My order is late');
}

/** An inbox's settings page (admin): every setting of an email inbox, its tests, where to point mail, and the danger zone. */
export function InboxSettingsScreen({ inboxId }: { inboxId: string }) {
  const { ws } = useWorkspace();
  const inbox = useInbox(ws, inboxId);
  const back = (
    <a
      href={`/w/${ws}/admin/inboxes`}
      onClick={(e) => {
        e.preventDefault();
        navigate(`/w/${ws}/admin/inboxes`);
      }}
    >
      ← All inboxes
    </a>
  );
  if (inbox.isPending) return <Loading />;
  if (inbox.isError) {
    return (
      <div>
        {back}
        <ErrorState
          error={inbox.error instanceof ApiError && inbox.error.status === 404 ? new ApiError(404, 'inboxes.not_found', 'This inbox does not exist (it may have been deleted).') : inbox.error}
        />
      </div>
    );
  }
  return (
    <div className="inbox-settings">
      {back}
      <h1>
        {inbox.data.name} <span className="badge channel">{inbox.data.channel}</span> {inbox.data.disabledAt ? <span className="badge badge-warning">Disabled</span> : null}
      </h1>
      {inbox.data.disabledAt ? (
        <p className="notice" role="status">
          This inbox is disabled since {new Date(inbox.data.disabledAt).toLocaleString()}: it takes no new mail and sends no replies. Its conversations are kept.
        </p>
      ) : null}
      {inbox.data.channel === 'email' ? (
        <EmailSettingsForm inbox={inbox.data} />
      ) : (
        <p className="muted">This inbox receives conversations created through the API; it has no settings beyond its name.</p>
      )}
      <DangerZone inbox={inbox.data} />
    </div>
  );
}

function ServerFields({ kind, value, onChange }: { kind: 'SMTP' | 'IMAP'; value: SmtpForm; onChange: (patch: Partial<SmtpForm>) => void }) {
  return (
    <div className="settings-grid">
      <label>
        Host
        <input
          aria-label={`${kind} host`}
          placeholder={kind === 'SMTP' ? 'smtp.example.com' : 'imap.example.com'}
          value={value.host}
          onChange={(e) => onChange({ host: e.target.value })}
          maxLength={253}
        />
      </label>
      <label>
        Port
        <input
          aria-label={`${kind} port`}
          placeholder={kind === 'SMTP' ? '587' : '993'}
          inputMode="numeric"
          pattern="[0-9]{1,5}"
          title="A port number, such as 587"
          value={value.port}
          onChange={(e) => onChange({ port: e.target.value })}
        />
      </label>
      <label>
        Security
        <select aria-label={`${kind} security`} value={value.tls} onChange={(e) => onChange({ tls: e.target.value as Tls })}>
          <option value="implicit">TLS from the start</option>
          <option value="starttls">STARTTLS</option>
          <option value="none">None (local relay only)</option>
        </select>
      </label>
      <label>
        User name
        <input aria-label={`${kind} user`} value={value.user} onChange={(e) => onChange({ user: e.target.value })} maxLength={500} autoComplete="off" />
      </label>
      <label>
        Password
        <input
          aria-label={`${kind} password`}
          type="password"
          placeholder={value.stored ? 'saved (type to replace)' : ''}
          value={value.password}
          onChange={(e) => onChange({ password: e.target.value })}
          maxLength={500}
          autoComplete="new-password"
        />
      </label>
    </div>
  );
}

function EmailSettingsForm({ inbox }: { inbox: Inbox }) {
  const { ws } = useWorkspace();
  const update = useUpdateInbox(ws);
  const smtpTest = useSendSmtpTest(ws, inbox.id);
  const imapTest = useTestImap(ws, inbox.id);
  const receiving = useEmailReceiving(ws, inbox.id);
  const [form, setForm] = useState(() => formOf(inbox));
  const [saved, setSaved] = useState(false);
  const [testTo, setTestTo] = useState('');
  const set = (patch: Partial<Form>) => {
    setSaved(false);
    setForm((f) => ({ ...f, ...patch }));
  };
  const setSmtp = (patch: Partial<SmtpForm>) => set({ smtp: { ...form.smtp, ...patch } });
  const setImap = (patch: Partial<ImapForm>) => set({ imap: { ...form.imap, ...patch } });
  const setAck = (patch: Partial<Form['ack']>) => set({ ack: { ...form.ack, ...patch } });

  return (
    <>
      <form
        className="settings-form"
        onSubmit={(e) => {
          e.preventDefault();
          update.mutate(
            { id: inbox.id, name: form.name.trim(), settings: settingsOf(form) },
            {
              onSuccess: (next) => {
                // The answer holds the secrets masked again: the password fields go back to "saved".
                setForm(formOf(next));
                setSaved(true);
              },
            },
          );
        }}
      >
        <section aria-labelledby="addresses-h">
          <h2 id="addresses-h">Addresses</h2>
          <div className="settings-grid">
            <label>
              Inbox name
              <input aria-label="Inbox name" value={form.name} onChange={(e) => set({ name: e.target.value })} required maxLength={100} />
            </label>
            <label>
              Addresses (the first is the From of replies)
              <input aria-label="Addresses" value={form.addresses} onChange={(e) => set({ addresses: e.target.value })} required placeholder="support@example.com, help@example.com" />
            </label>
            <label>
              Catch-all domains (optional)
              <input aria-label="Catch-all domains" value={form.catchAllDomains} onChange={(e) => set({ catchAllDomains: e.target.value })} placeholder="help.example.com" />
            </label>
            <label>
              From name
              <input aria-label="From name" value={form.fromName} onChange={(e) => set({ fromName: e.target.value })} maxLength={100} placeholder="Acme Support" />
            </label>
          </div>
          <p className="muted">Replies are sent as “Agent name (From name)” from the first address.</p>
        </section>

        <section aria-labelledby="sending-h">
          <h2 id="sending-h">Sending (SMTP)</h2>
          <p className="muted">The mail server that sends your replies. Its password is never shown again once saved; leave the field empty to keep it.</p>
          <ServerFields kind="SMTP" value={form.smtp} onChange={setSmtp} />
          <div className="inline-form">
            <input aria-label="Send a test to" type="email" placeholder="you@example.com" value={testTo} onChange={(e) => setTestTo(e.target.value)} />
            <button
              type="button"
              className="btn"
              disabled={smtpTest.isPending || !testTo.trim() || !form.smtp.host.trim()}
              onClick={() => smtpTest.mutate({ to: testTo.trim(), smtp: serverOf(form.smtp) ?? undefined })}
            >
              {smtpTest.isPending ? 'Sending…' : 'Send a test'}
            </button>
          </div>
          {smtpTest.isSuccess ? (
            <p className="test-ok" role="status">
              Test email sent to {smtpTest.data.sentTo}. These settings work{update.isSuccess && saved ? '' : ' (save to keep them)'}.
            </p>
          ) : null}
          <Problem error={smtpTest.error} />
        </section>

        <section aria-labelledby="receiving-h">
          <h2 id="receiving-h">Receiving</h2>
          <fieldset className="choice">
            <legend>How mail reaches this inbox</legend>
            <label>
              <input type="radio" name="receiving" checked={form.receiving === 'mx'} onChange={() => set({ receiving: 'mx' })} /> Delivered to Rapport (MX record or forwarding)
            </label>
            <label>
              <input type="radio" name="receiving" checked={form.receiving === 'imap'} onChange={() => set({ receiving: 'imap' })} /> Fetched from a mailbox (IMAP)
            </label>
          </fieldset>
          {form.receiving === 'mx' ? (
            receiving.data ? (
              <div className="receiving-help">
                <p>
                  <strong>MX record.</strong> At your DNS provider, point the domain’s mail to this server:
                </p>
                <table className="table">
                  <thead>
                    <tr>
                      <th>Domain</th>
                      <th>Type</th>
                      <th>Priority</th>
                      <th>Value</th>
                    </tr>
                  </thead>
                  <tbody>
                    {receiving.data.mx.records.map((r) => (
                      <tr key={r.domain}>
                        <td>
                          <code>{r.domain}</code>
                        </td>
                        <td>{r.type}</td>
                        <td>{r.priority}</td>
                        <td>
                          <code>{r.value}</code>
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
                <p className="muted">
                  Rapport receives mail on port {receiving.data.mx.smtpPort}
                  {receiving.data.mx.smtpPort === 25 ? '.' : '; mail servers deliver to port 25, so forward port 25 of this server to it (or put your mail relay in front).'}
                </p>
                <p>
                  <strong>Or forwarding.</strong> Keep your mail provider and forward your support mail to <code>{receiving.data.forwardTo}</code>. That address must reach Rapport through the MX
                  record above, so a subdomain (such as <code>help.yourcompany.com</code>) works without moving your main mail.
                </p>
                <p className="muted">Mail reaches the inbox only once its address is verified (below).</p>
              </div>
            ) : (
              <Problem error={receiving.error} />
            )
          ) : (
            <>
              <p className="muted">Rapport checks this mailbox for new mail every {receiving.data?.imap.pollSeconds ?? 60} seconds, and marks what it took as read (or moves it).</p>
              <ServerFields kind="IMAP" value={form.imap} onChange={setImap} />
              <div className="settings-grid">
                <label>
                  Folder
                  <input aria-label="IMAP folder" value={form.imap.mailbox} onChange={(e) => setImap({ mailbox: e.target.value })} maxLength={500} />
                </label>
                <label>
                  After fetching
                  <select aria-label="After fetching" value={form.imap.afterFetch} onChange={(e) => setImap({ afterFetch: e.target.value as 'seen' | 'move' })}>
                    <option value="seen">Mark as read</option>
                    <option value="move">Move to a folder</option>
                  </select>
                </label>
                {form.imap.afterFetch === 'move' ? (
                  <label>
                    Move to
                    <input aria-label="Move to folder" value={form.imap.moveTo} onChange={(e) => setImap({ moveTo: e.target.value })} required maxLength={500} />
                  </label>
                ) : null}
              </div>
              <button type="button" className="btn" disabled={imapTest.isPending || !form.imap.host.trim()} onClick={() => imapTest.mutate({ imap: imapOf(form.imap) ?? undefined })}>
                {imapTest.isPending ? 'Connecting…' : 'Test connection'}
              </button>
              {imapTest.isSuccess ? (
                <p className="test-ok" role="status">
                  Signed in. The folder “{imapTest.data.mailbox}” holds {imapTest.data.messages} message{imapTest.data.messages === 1 ? '' : 's'}.
                </p>
              ) : null}
              <Problem error={imapTest.error} />
            </>
          )}
        </section>

        <section aria-labelledby="ack-h">
          <h2 id="ack-h">Auto-acknowledgement</h2>
          <label className="checkbox">
            <input type="checkbox" checked={form.ack.enabled} onChange={(e) => setAck({ enabled: e.target.checked })} /> Answer each new conversation automatically
          </label>
          <p className="muted">
            Never sent to automatic mail, mailing lists or unverified senders, and at most a few a day to one address. You can use <code>{'{{number}}'}</code>, <code>{'{{name}}'}</code> and{' '}
            <code>{'{{subject}}'}</code>.
          </p>
          <div className="settings-grid">
            <label>
              Subject
              <input aria-label="Acknowledgement subject" value={form.ack.subject} onChange={(e) => setAck({ subject: e.target.value })} maxLength={200} />
            </label>
            <label className="wide">
              Text
              <textarea aria-label="Acknowledgement text" rows={4} value={form.ack.body} onChange={(e) => setAck({ body: e.target.value })} maxLength={10000} />
            </label>
          </div>
          {form.ack.body.trim() ? (
            <section className="ack-preview" aria-label="Acknowledgement preview">
              <div className="muted">Preview</div>
              <strong>{fillTemplate(form.ack.subject || DEFAULT_ACK_SUBJECT)}</strong>
              <p>{fillTemplate(form.ack.body)}</p>
            </section>
          ) : null}
        </section>

        <div className="settings-actions">
          <button type="submit" className="btn btn-primary" disabled={update.isPending}>
            {update.isPending ? 'Saving…' : 'Save settings'}
          </button>
          {saved ? (
            <span className="test-ok" role="status">
              Saved.
            </span>
          ) : null}
          <Problem error={update.error} />
        </div>
      </form>
      <EmailOwnershipPanel inbox={inbox} />
    </>
  );
}

/** Disable or delete, with what happens to the conversations said first. */
function DangerZone({ inbox }: { inbox: Inbox }) {
  const { ws } = useWorkspace();
  const disable = useDisableInbox(ws);
  const enable = useEnableInbox(ws);
  const remove = useDeleteInbox(ws);
  const [confirming, setConfirming] = useState(false);
  return (
    <section className="danger-zone" aria-labelledby="danger-h">
      <h2 id="danger-h">Danger zone</h2>
      {inbox.disabledAt ? (
        <div>
          <p>Enable the inbox again: it takes new mail and sends replies. Mail waiting in an IMAP mailbox is fetched at the next check.</p>
          <button type="button" className="btn" disabled={enable.isPending} onClick={() => enable.mutate(inbox.id)}>
            Enable inbox
          </button>
          <Problem error={enable.error} />
        </div>
      ) : (
        <div>
          <p>
            <strong>Disable.</strong> The inbox stops taking new mail (mail to its addresses is refused, so senders know; IMAP mail stays in the mailbox) and sends no replies. Its conversations stay,
            readable and searchable. You can enable it again at any time.
          </p>
          <button type="button" className="btn btn-danger" disabled={disable.isPending} onClick={() => disable.mutate(inbox.id)}>
            Disable inbox
          </button>
          <Problem error={disable.error} />
        </div>
      )}
      <div>
        <p>
          <strong>Delete.</strong> Removes the inbox with its settings and addresses, for good. An inbox that still holds conversations cannot be deleted, so no customer history is lost: disable it
          instead.
        </p>
        {confirming ? (
          <div className="inline-form">
            <span>Delete “{inbox.name}” for good?</span>
            <button
              type="button"
              className="btn btn-danger"
              disabled={remove.isPending}
              onClick={() => remove.mutate(inbox.id, { onSuccess: () => navigate(`/w/${ws}/admin/inboxes`), onError: () => setConfirming(false) })}
            >
              Delete
            </button>
            <button type="button" className="btn" onClick={() => setConfirming(false)}>
              Cancel
            </button>
          </div>
        ) : (
          <button type="button" className="btn btn-danger" onClick={() => setConfirming(true)}>
            Delete inbox…
          </button>
        )}
        <Problem error={remove.error} />
      </div>
    </section>
  );
}
