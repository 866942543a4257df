import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, createTestWorkspace, eventually, startTestServer, tokenFor, type TestServer, type TestWorkspace } from '../../../../test/helpers.js';
import { fakeLookup } from '../../../lib/outbound/outbound.testing.js';
import { modules } from '../../index.js';
import { createEmailModule, emailRuntimeOf } from './email.module.js';
import { createEmailInbox, sendRaw, smtpDialog, smtpPortOf, startSink, systemQuery } from './email.testing.js';
import { skipDovecotTests, startDovecot, type Dovecot } from './imap.dovecot.js';

/**
 * An email inbox's settings after creation (issue #10): secrets masked and kept, "Send a test"
 * through a real SMTP server that wants a password, "Test connection" against a real Dovecot,
 * disabling (no intake, no replies, conversations kept) and deleting.
 */

/** A port nothing listens on (bound, then closed). */
async function deadPort(): Promise<number> {
  const s = new SMTPServer({ logger: false });
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.server.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const SECRET = 'smtp-s3cret-never-shown';
let rapport: TestServer;
let ws: TestWorkspace;
let sink: Awaited<ReturnType<typeof startSink>>;
let seq = 0;
const api = () => client(rapport, ws.token, ws.workspaceId);
const smtpOf = (port: number, password = SECRET) => ({ host: '127.0.0.1', port, tls: 'none', user: 'desk', password });

beforeAll(async () => {
  sink = await startSink({ auth: { user: 'desk', password: SECRET } });
  rapport = await startTestServer({ modules: modules.map((m) => (m.name === 'email' ? createEmailModule({ imapPollMs: 200, smtpTimeoutMs: 2_000, connectionTestsPerHour: 1_000 }) : m)) });
  ws = await createTestWorkspace(rapport);
});
afterAll(async () => {
  await rapport?.stop();
  await sink?.close();
});

describe('secrets in the settings', () => {
  it('shows a fixed mask instead of each password, and a mask sent back keeps the stored secret', async () => {
    const inbox = await createEmailInbox(rapport, ws, {
      addresses: ['masked@settings.test'],
      smtp: smtpOf(sink.port),
      imap: { host: '127.0.0.1', port: 143, tls: 'none', user: 'desk', password: 'imap-s3cret' },
    });
    const read = await api().get(`/inboxes/${inbox.id}`);
    expect(read.json().settings).toMatchObject({ smtp: { password: '********', user: 'desk' }, imap: { password: '********' } });
    expect(read.body).not.toContain(SECRET);
    expect(read.body).not.toContain('imap-s3cret');
    // The form sends back everything it read, with a new From name: the passwords stay.
    const saved = await api().patch(`/inboxes/${inbox.id}`, { settings: { ...read.json().settings, fromName: 'Settings Desk' } });
    expect(saved.statusCode).toBe(200);
    expect(saved.body).not.toContain(SECRET);
    const [row] = await systemQuery<{ settings: { fromName: string; smtp: { password: string }; imap: { password: string } } }>(rapport, 'select settings from inboxes where id = $1', [inbox.id]);
    expect(row.settings).toMatchObject({ fromName: 'Settings Desk', smtp: { password: SECRET }, imap: { password: 'imap-s3cret' } });
    // A new password replaces it.
    await api().patch(`/inboxes/${inbox.id}`, { settings: { ...read.json().settings, smtp: { ...read.json().settings.smtp, password: 'another' } } });
    const [after] = await systemQuery<{ settings: { smtp: { password: string } } }>(rapport, 'select settings from inboxes where id = $1', [inbox.id]);
    expect(after.settings.smtp.password).toBe('another');
    // The change is announced by inbox.updated, which names the inbox only.
    const events = await systemQuery<{ data: Record<string, unknown> }>(rapport, "select data from events where type = 'inbox.updated' and workspace_id = $1", [ws.workspaceId]);
    expect(events.map((e) => e.data)).toContainEqual({ inboxId: inbox.id });
  });

  it('asks for the password again when the server or the user beside it changes (a mask never follows the secret elsewhere)', async () => {
    const inbox = await createEmailInbox(rapport, ws, { addresses: ['moved@settings.test'], smtp: { ...smtpOf(sink.port), tls: 'starttls' } });
    const settings = (await api().get(`/inboxes/${inbox.id}`)).json().settings;
    for (const smtp of [
      { ...settings.smtp, host: 'relay.elsewhere.test' },
      { ...settings.smtp, user: 'someone-else' },
      // Encryption turned off beside the mask would send the saved password in clear text.
      { ...settings.smtp, tls: 'none' },
    ]) {
      const saved = await api().patch(`/inboxes/${inbox.id}`, { settings: { ...settings, smtp } });
      expect(saved.statusCode).toBe(422);
      expect(saved.json()).toMatchObject({ code: 'inboxes.invalid_settings' });
      expect(saved.json().detail).toMatch(/enter the secret again/);
      const tested = await api().post(`/inboxes/${inbox.id}/email/smtp-test`, { to: 'admin@elsewhere.test', smtp });
      expect(tested.statusCode).toBe(422);
      expect(tested.body).not.toContain(SECRET);
    }
    const [row] = await systemQuery<{ settings: { smtp: { host: string; password: string } } }>(rapport, 'select settings from inboxes where id = $1', [inbox.id]);
    expect(row.settings.smtp).toMatchObject({ host: '127.0.0.1', tls: 'starttls', password: SECRET });
    // The port alone may change with the mask (the named browser test does that).
    const port = await api().patch(`/inboxes/${inbox.id}`, { settings: { ...settings, smtp: { ...settings.smtp, port: sink.port + 1 } } });
    expect(port.statusCode).toBe(200);
  });
});

describe('Send a test (SMTP)', () => {
  it('sends a test email through the stored settings, and through edited ones whose masked password is the stored one', async () => {
    const inbox = await createEmailInbox(rapport, ws, { addresses: [`test${++seq}@settings.test`], smtp: smtpOf(await deadPort()) });
    const stored = await api().post(`/inboxes/${inbox.id}/email/smtp-test`, { to: 'admin@elsewhere.test' });
    expect(stored.statusCode).toBe(422);
    expect(stored.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(stored.json()).toMatchObject({ code: 'email.server_unreachable' });
    // The admin fixes the port in the form (not saved yet) and sends the password back masked.
    const edited = await api().post(`/inboxes/${inbox.id}/email/smtp-test`, { to: 'admin@elsewhere.test', smtp: { ...smtpOf(sink.port), password: '********' } });
    expect(edited.statusCode).toBe(200);
    expect(edited.json()).toEqual({ ok: true, sentTo: 'admin@elsewhere.test' });
    const mail = await eventually(async () => sink.received.find((m) => m.to.includes('admin@elsewhere.test')));
    expect(mail.raw).toContain('Subject: Rapport test email');
    expect(mail.raw).toContain(`From: test${seq}@settings.test`);
  });

  it('says the password is wrong when the server refuses the sign-in', async () => {
    const inbox = await createEmailInbox(rapport, ws, { addresses: [`test${++seq}@settings.test`], smtp: smtpOf(sink.port, 'wrong') });
    const res = await api().post(`/inboxes/${inbox.id}/email/smtp-test`, { to: 'admin@elsewhere.test' });
    expect([res.statusCode, res.json().code]).toEqual([422, 'email.auth_failed']);
    expect(res.json().detail).toMatch(/user name and password/);
  });

  it('says the secure connection failed when the server offers no TLS the settings ask for', async () => {
    const inbox = await createEmailInbox(rapport, ws, { addresses: [`test${++seq}@settings.test`], smtp: { ...smtpOf(sink.port), tls: 'starttls' } });
    const starttls = await api().post(`/inboxes/${inbox.id}/email/smtp-test`, { to: 'admin@elsewhere.test' });
    expect([starttls.statusCode, starttls.json().code]).toEqual([422, 'email.tls_failed']);
    const implicit = await api().post(`/inboxes/${inbox.id}/email/smtp-test`, { to: 'admin@elsewhere.test', smtp: { ...smtpOf(sink.port), password: '********', tls: 'implicit' } });
    expect([implicit.statusCode, implicit.json().code]).toEqual([422, 'email.tls_failed']);
    expect(sink.received.some((m) => m.to.includes('admin@elsewhere.test') && m.raw.includes(`test${seq}@settings.test`))).toBe(false);
  });

  it('asks for SMTP settings first when the inbox has none', async () => {
    const inbox = await createEmailInbox(rapport, ws, { addresses: [`test${++seq}@settings.test`] });
    const res = await api().post(`/inboxes/${inbox.id}/email/smtp-test`, { to: 'admin@elsewhere.test' });
    expect([res.statusCode, res.json().code]).toEqual([422, 'email.no_smtp_settings']);
  });
});

describe('Send a test with the default, empty allow-list (SECURITY M4, W4)', () => {
  let guarded: TestServer;
  let gws: TestWorkspace;
  beforeAll(async () => {
    const lookup = fakeLookup({ 'smtp.example.com': ['93.184.216.34'], 'relay.attacker.test': ['10.0.0.7'] });
    guarded = await startTestServer({
      config: { outboundAllowedNetworks: [] },
      outboundLookup: lookup,
      modules: modules.map((m) => (m.name === 'email' ? createEmailModule({ smtpTimeoutMs: 1_000 }) : m)),
    });
    gws = await createTestWorkspace(guarded);
  });
  afterAll(async () => guarded?.stop());

  it('refuses a loopback or private target, literal or by name, before connecting', async () => {
    const g = client(guarded, gws.token, gws.workspaceId);
    const inbox = (await g.post('/inboxes', { name: 'G', channel: 'email', settings: { addresses: ['g@guard.test'], smtp: { host: 'smtp.example.com', port: 587, tls: 'starttls' } } })).json();
    const literal = await g.post(`/inboxes/${inbox.id}/email/smtp-test`, { to: 'a@b.test', smtp: { host: '127.0.0.1', port: sink.port, tls: 'none' } });
    expect([literal.statusCode, literal.json().code]).toEqual([422, 'outbound.forbidden_address']);
    const named = await g.post(`/inboxes/${inbox.id}/email/smtp-test`, { to: 'a@b.test', smtp: { host: 'relay.attacker.test', port: 25, tls: 'none' } });
    expect([named.statusCode, named.json().code]).toEqual([422, 'outbound.forbidden_address']);
    const imap = await g.post(`/inboxes/${inbox.id}/email/imap-test`, { imap: { host: '[::ffff:127.0.0.1]', port: 143, tls: 'none', user: 'u', password: 'p' } });
    expect([imap.statusCode, imap.json().code]).toEqual([422, 'outbound.forbidden_address']);
  });
});

describe('pacing the tests', () => {
  let paced: TestServer;
  beforeAll(async () => {
    paced = await startTestServer({ modules: modules.map((m) => (m.name === 'email' ? createEmailModule({ smtpTimeoutMs: 1_000, connectionTestsPerHour: 6 }) : m)) });
  });
  afterAll(async () => paced?.stop());

  it('refuses a workspace’s third test in a row (6 an hour, 2 at once) with 429, and lets another workspace test', async () => {
    const a = await createTestWorkspace(paced);
    const b = await createTestWorkspace(paced);
    const inboxOf = async (w: TestWorkspace) =>
      (await client(paced, w.token, w.workspaceId).post('/inboxes', { name: 'P', channel: 'email', settings: { addresses: [`p${++seq}@pace.test`], smtp: smtpOf(sink.port) } })).json().id;
    const [ia, ib] = [await inboxOf(a), await inboxOf(b)];
    const test = (w: TestWorkspace, id: string) => client(paced, w.token, w.workspaceId).post(`/inboxes/${id}/email/smtp-test`, { to: 'paced@elsewhere.test' });
    expect((await test(a, ia)).statusCode).toBe(200);
    expect((await test(a, ia)).statusCode).toBe(200);
    const third = await test(a, ia);
    expect([third.statusCode, third.json().code]).toEqual([429, 'email.tests_throttled']);
    expect(third.headers['retry-after']).toBe('600');
    expect((await client(paced, a.token, a.workspaceId).post(`/inboxes/${ia}/email/imap-test`, {})).statusCode).toBe(429);
    expect((await test(b, ib)).statusCode).toBe(200);
    expect(sink.received.filter((m) => m.to.includes('paced@elsewhere.test'))).toHaveLength(3);
  });
});

const skipped = skipDovecotTests();
describe.skipIf(skipped)('Test connection (IMAP, Dovecot)', () => {
  let dovecot: Dovecot;
  beforeAll(async () => {
    dovecot = await startDovecot({ imapdesk: 'pw-imapdesk', waiting: 'pw-waiting' });
  });
  afterAll(async () => dovecot?.stop());

  it('a disabled inbox is not polled; enabled again, the mail waiting on the server arrives', async () => {
    // Its own Dovecot user: no other inbox polls this mailbox.
    const user = 'waiting';
    const inbox = await createEmailInbox(rapport, ws, { addresses: [`poll${++seq}@settings.test`], imap: { host: '127.0.0.1', port: dovecot.port, tls: 'none', user, password: 'pw-waiting' } });
    expect((await api().post(`/inboxes/${inbox.id}/disable`, {})).statusCode).toBe(200);
    const box = await dovecot.connect(user, 'pw-waiting');
    const id = `<waiting${seq}.${Date.now()}@customer.test>`;
    await box.append('INBOX', `From: Wes <wes@customer.test>\r\nTo: poll${seq}@settings.test\r\nSubject: while disabled\r\nMessage-ID: ${id}\r\n\r\nhello\r\n`);
    await box.logout();
    // Two whole passes of the poller after the mail arrived: had it polled the inbox, the mail would be stored.
    const poller = emailRuntimeOf(rapport.server).poller;
    const passes = poller.passes;
    await eventually(async () => poller.passes >= passes + 2, 15_000);
    expect(await systemQuery(rapport, 'select 1 from email_messages where rfc_message_id = $1', [id.slice(1, -1)])).toEqual([]);
    expect((await api().post(`/inboxes/${inbox.id}/enable`, {})).json().disabledAt).toBeNull();
    await eventually(async () => (await systemQuery(rapport, 'select 1 from email_messages where inbox_id = $1', [inbox.id])).length === 1, 15_000);
  }, 40_000);

  it('signs in with the right password, says so with the wrong one, and says when the server cannot be reached', async () => {
    const imap = { host: '127.0.0.1', port: dovecot.port, tls: 'none', user: 'imapdesk', password: 'pw-imapdesk' };
    const inbox = await createEmailInbox(rapport, ws, { addresses: [`imap${++seq}@settings.test`], imap });
    const good = await api().post(`/inboxes/${inbox.id}/email/imap-test`, {});
    expect(good.statusCode).toBe(200);
    expect(good.json()).toMatchObject({ ok: true, mailbox: 'INBOX' });
    // Edited settings with the masked password: the stored one signs in.
    const masked = await api().post(`/inboxes/${inbox.id}/email/imap-test`, { imap: { ...imap, password: '********' } });
    expect(masked.statusCode).toBe(200);
    const folder = await api().post(`/inboxes/${inbox.id}/email/imap-test`, { imap: { ...imap, password: '********', mailbox: 'Nowhere' } });
    expect([folder.statusCode, folder.json().code]).toEqual([422, 'email.mailbox_missing']);
    const tls = await api().post(`/inboxes/${inbox.id}/email/imap-test`, { imap: { ...imap, password: '********', tls: 'implicit' } });
    expect([tls.statusCode, tls.json().code]).toEqual([422, 'email.tls_failed']);
    const dead = await api().post(`/inboxes/${inbox.id}/email/imap-test`, { imap: { ...imap, password: '********', port: await deadPort() } });
    expect([dead.statusCode, dead.json().code]).toEqual([422, 'email.server_unreachable']);
    // Last: Dovecot slows later sign-ins from an address after a failed one.
    const bad = await api().post(`/inboxes/${inbox.id}/email/imap-test`, { imap: { ...imap, password: 'nope' } });
    expect([bad.statusCode, bad.json().code]).toEqual([422, 'email.auth_failed']);
  }, 30_000);
});

describe('disabling and deleting', () => {
  it('a disabled inbox refuses new mail and replies, and keeps its conversations', async () => {
    const address = `off${++seq}@settings.test`;
    const inbox = await createEmailInbox(rapport, ws, { addresses: [address], smtp: smtpOf(sink.port) });
    await sendRaw(smtpPortOf(rapport), `From: Ann <ann@customer.test>\r\nTo: ${address}\r\nSubject: Before\r\nMessage-ID: <before${seq}@customer.test>\r\n\r\nhi\r\n`, {
      from: 'ann@customer.test',
      to: [address],
    });
    const conversation = await eventually(async () => (await api().get(`/conversations?inbox=${inbox.id}`)).json().items[0]);

    const off = await api().post(`/inboxes/${inbox.id}/disable`, {});
    expect(off.statusCode).toBe(200);
    expect(off.json().disabledAt).toEqual(expect.any(String));
    // New mail is refused like mail to an unknown address: the sender hears at once.
    const replies = await smtpDialog(smtpPortOf(rapport), ['EHLO test', 'MAIL FROM:<ann@customer.test>', `RCPT TO:<${address}>`, 'QUIT']);
    expect(replies.some((l) => l.startsWith('550'))).toBe(true);
    // A reply is refused in people's words; a note still works; the conversation is still there.
    const reply = await api().post(`/conversations/${conversation.id}/messages`, { type: 'reply', body: 'hello?' });
    expect([reply.statusCode, reply.json().code]).toEqual([409, 'inboxes.disabled']);
    expect(reply.json().title).toMatch(/disabled/);
    expect((await api().post(`/conversations/${conversation.id}/messages`, { type: 'note', body: 'moved to the new inbox' })).statusCode).toBe(201);
    expect((await api().get(`/conversations/${conversation.id}`)).statusCode).toBe(200);
    // Deleting is refused while it holds conversations: disabling is how it is retired.
    const del = await api().delete(`/inboxes/${inbox.id}`);
    expect([del.statusCode, del.json().code]).toEqual([409, 'inboxes.has_conversations']);
    expect((await api().get(`/inboxes/${inbox.id}`)).statusCode).toBe(200);

    // Enabled again, replies go out.
    expect((await api().post(`/inboxes/${inbox.id}/enable`, {})).statusCode).toBe(200);
    expect((await api().post(`/conversations/${conversation.id}/messages`, { type: 'reply', body: 'back' })).statusCode).toBe(201);
    const types = await systemQuery<{ type: string }>(rapport, "select type from events where data->>'inboxId' = $1 and type like 'inbox.%' order by id", [inbox.id]);
    expect(types.map((t) => t.type)).toEqual(['inbox.disabled', 'inbox.enabled']);
  });

  it('deletes an inbox without conversations, with its addresses, and keeps the API inbox', async () => {
    const address = `gone${++seq}@settings.test`;
    const inbox = await createEmailInbox(rapport, ws, { addresses: [address] });
    const res = await api().delete(`/inboxes/${inbox.id}`);
    expect(res.statusCode).toBe(204);
    expect((await api().get(`/inboxes/${inbox.id}`)).json().code).toBe('inboxes.not_found');
    expect(await systemQuery(rapport, 'select 1 from email_inbox_addresses where inbox_id = $1', [inbox.id])).toEqual([]);
    expect(await systemQuery(rapport, "select 1 from events where type = 'inbox.deleted' and data->>'inboxId' = $1", [inbox.id])).toHaveLength(1);
    // The address is free for another inbox of the workspace.
    expect((await api().post('/inboxes', { name: 'Again', channel: 'email', settings: { addresses: [address] } })).statusCode).toBe(201);
    expect((await api().delete(`/inboxes/${ws.inboxId}`)).json().code).toBe('inboxes.last_api_inbox');
    expect((await api().post(`/inboxes/${ws.inboxId}/disable`, {})).json().code).toBe('inboxes.last_api_inbox');
  });
});

describe('who may', () => {
  it('is for admins; another workspace’s inbox answers 404 exactly like a missing one', async () => {
    const inbox = await createEmailInbox(rapport, ws, { addresses: [`mine${++seq}@settings.test`], smtp: smtpOf(sink.port) });
    const agent = client(rapport, await tokenFor(rapport, ws, 'agent'), ws.workspaceId);
    for (const [method, path] of [
      ['post', 'email/smtp-test'],
      ['post', 'email/imap-test'],
      ['get', 'email/receiving'],
      ['post', 'disable'],
      ['post', 'enable'],
    ] as const) {
      const url = `/inboxes/${inbox.id}/${path}`;
      const body = path === 'email/smtp-test' ? { to: 'x@y.test' } : {};
      expect((method === 'get' ? await agent.get(url) : await agent.post(url, body)).statusCode).toBe(403);
    }
    expect((await agent.delete(`/inboxes/${inbox.id}`)).statusCode).toBe(403);
    const other = await createTestWorkspace(rapport);
    const outsider = client(rapport, other.token, other.workspaceId);
    const answers = [
      await outsider.post(`/inboxes/${inbox.id}/email/smtp-test`, { to: 'x@y.test' }),
      await outsider.post(`/inboxes/${inbox.id}/email/imap-test`, {}),
      await outsider.get(`/inboxes/${inbox.id}/email/receiving`),
      await outsider.post(`/inboxes/${inbox.id}/disable`, {}),
      await outsider.delete(`/inboxes/${inbox.id}`),
    ];
    for (const a of answers) expect([a.statusCode, a.json().code]).toEqual([404, 'inboxes.not_found']);
    const missing = await outsider.post(`/inboxes/${crypto.randomUUID()}/disable`, {});
    expect(missing.json()).toEqual(answers[3].json());
    expect(sink.received.some((m) => m.to.includes('x@y.test'))).toBe(false);
    expect((await api().get(`/inboxes/${inbox.id}`)).json().disabledAt).toBeNull();
  });

  it('tells the admin where to point mail, with this server’s values', async () => {
    const inbox = await createEmailInbox(rapport, ws, { addresses: [`where${++seq}@acme-settings.test`], catchAllDomains: ['help.acme-settings.test'] });
    const res = await api().get(`/inboxes/${inbox.id}/email/receiving`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      mx: {
        smtpPort: smtpPortOf(rapport),
        records: [
          { domain: 'acme-settings.test', type: 'MX' },
          { domain: 'help.acme-settings.test', type: 'MX' },
        ],
      },
      forwardTo: `where${seq}@acme-settings.test`,
      imap: { configured: false, pollSeconds: 0 },
    });
  });
});
