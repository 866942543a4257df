import net from 'node:net';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, createTestWorkspace, eventually, startTestServer, type TestServer, type TestWorkspace } from '../../../../test/helpers.js';
import { createLogger } from '../../../lib/logger.js';
import type { HostLookup } from '../../../lib/outbound/outbound.guard.js';
import { fakeLookup, forbiddenLiterals } from '../../../lib/outbound/outbound.testing.js';
import { modules } from '../../index.js';
import type { EmailInboxSettings } from './email.channel.js';
import { createEmailModule, emailRuntimeOf } from './email.module.js';
import { createEmailInbox, sendRaw, smtpPortOf, startSink, systemQuery } from './email.testing.js';
import { skipDovecotTests, startDovecot, type Dovecot } from './imap.dovecot.js';

/**
 * SECURITY M4: an inbox's SMTP and IMAP hosts must not reach loopback, private, link-local or
 * metadata addresses, in any notation, by name, or by a name that changes its answer (rebinding);
 * and a failed delivery must not tell an agent whether a port is open.
 */

function capturingLog() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      done();
    },
  });
  return { log: createLogger('warn', stream), lines };
}

const emailModule = (smtpTimeoutMs: number) => modules.map((m) => (m.name === 'email' ? createEmailModule({ smtpTimeoutMs, imapPollMs: 3_600_000 }) : m));

let seq = 0;
/** An email from a customer into `to`, through Rapport's own SMTP port; returns its conversation. */
async function inbound(rapport: TestServer, to: string): Promise<string> {
  const id = `ssrf${++seq}.${Date.now()}@customer.test`;
  const raw = `From: Ann <ann@customer.test>\r\nTo: ${to}\r\nSubject: Case ${seq}\r\nMessage-ID: <${id}>\r\n\r\nhello\r\n`;
  await sendRaw(smtpPortOf(rapport), raw, { from: 'ann@customer.test', to: [to] });
  return eventually(async () => (await systemQuery<{ conversation_id: string }>(rapport, 'select conversation_id from email_messages where rfc_message_id = $1', [id]))[0]?.conversation_id);
}

/** Replies in the conversation and waits until the delivery status matches `done`. */
async function replyAndWait(rapport: TestServer, ws: TestWorkspace, conversationId: string, body: string, done: (d: { status: string; error?: string }) => boolean) {
  const api = client(rapport, ws.token, ws.workspaceId);
  const res = await api.post(`/conversations/${conversationId}/messages`, { type: 'reply', body });
  expect(res.statusCode).toBe(201);
  return eventually(async () => {
    const items = (await api.get(`/conversations/${conversationId}/messages`)).json().items as { id: string; metadata: { delivery?: { status: string; reason: string | null } } }[];
    // The one delivery status of every channel (metadata.delivery); its code is `reason`.
    const found = items.find((i) => i.id === res.json().id)?.metadata.delivery;
    const delivery = found && { status: found.status, ...(found.reason ? { error: found.reason } : {}) };
    return delivery && done(delivery) ? { delivery, items } : null;
  }, 15_000);
}

describe('with the default, empty allow-list', () => {
  let rapport: TestServer;
  let ws: TestWorkspace;
  let emailInboxId: string;
  const captured = capturingLog();
  const lookup = fakeLookup({ 'relay.attacker.test': ['10.0.0.7'], 'imap.attacker.test': ['93.184.216.34', '169.254.169.254'], 'smtp.example.com': ['93.184.216.34'] });

  beforeAll(async () => {
    rapport = await startTestServer({ config: { outboundAllowedNetworks: [] }, outboundLookup: lookup, log: captured.log, modules: emailModule(1000) });
    ws = await createTestWorkspace(rapport);
    emailInboxId = (await createEmailInbox(rapport, ws, { addresses: ['patched@shop.test'], smtp: { host: 'smtp.example.com', port: 587, tls: 'starttls' } }, 'Patched')).id;
  });
  afterAll(async () => {
    await rapport?.stop();
  });

  const api = () => client(rapport, ws.token, ws.workspaceId);
  let n = 0;
  const settings = (extra: Record<string, unknown>) => ({ addresses: [`desk${++n}@shop.test`], ...extra });

  it.each(forbiddenLiterals)('refuses %s as an SMTP or IMAP host when an inbox is created or changed, with a 422 naming the field', async (host) => {
    const smtp = await api().post('/inboxes', { name: 'x', channel: 'email', settings: settings({ smtp: { host, port: 25, tls: 'none' } }) });
    expect(smtp.statusCode).toBe(422);
    expect(smtp.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(smtp.json()).toMatchObject({ code: 'outbound.forbidden_address', errors: [{ path: 'smtp.host' }] });
    const imap = await api().post('/inboxes', { name: 'x', channel: 'email', settings: settings({ imap: { host, port: 143, tls: 'none', user: 'u', password: 'p' } }) });
    expect(imap.statusCode).toBe(422);
    expect(imap.json()).toMatchObject({ code: 'outbound.forbidden_address', errors: [{ path: 'imap.host' }] });
    const patch = await api().patch(`/inboxes/${emailInboxId}`, { settings: { addresses: ['patched@shop.test'], smtp: { host, port: 25, tls: 'none' } } });
    expect(patch.statusCode).toBe(422);
    expect(patch.json().code).toBe('outbound.forbidden_address');
  });

  it('accepts a public host name: names are checked, and pinned, when connecting', async () => {
    const res = await api().post('/inboxes', { name: 'Public', channel: 'email', settings: settings({ smtp: { host: 'smtp.example.com', port: 587, tls: 'starttls' } }) });
    expect(res.statusCode).toBe(201);
  });

  it('refuses to send through a name that resolves to 10.x; the agent sees a generic error, the log the reason', async () => {
    await createEmailInbox(rapport, ws, { addresses: ['help@victim.test'], smtp: { host: 'relay.attacker.test', port: 25, tls: 'none' } }, 'Relay');
    const conversationId = await inbound(rapport, 'help@victim.test');
    const { delivery, items } = await replyAndWait(rapport, ws, conversationId, 'to the internal relay', (d) => d.status === 'failed');
    expect(delivery.error).toBe('email.connect_failed');
    expect(JSON.stringify(items)).not.toContain('10.0.0.7');
    expect(lookup.calls).toContain('relay.attacker.test');
    const logged = captured.lines.find((l) => l.msg === 'email: delivery attempt failed' && l.host === 'relay.attacker.test');
    expect(logged).toMatchObject({ code: 'outbound.forbidden_address', permanent: true });
    expect(String(logged!.err)).toContain('10.0.0.7');
  });

  it('never polls an IMAP host whose name resolves to a metadata address, even beside a public one', async () => {
    const inbox = await createEmailInbox(rapport, ws, { addresses: ['poll@victim.test'], imap: { host: 'imap.attacker.test', port: 143, tls: 'none', user: 'u', password: 'p' } }, 'Poll');
    const [row] = await systemQuery<{ settings: EmailInboxSettings }>(rapport, 'select settings from inboxes where id = $1', [inbox.id]);
    const poller = emailRuntimeOf(rapport.server).poller;
    await expect(poller.pollInbox({ workspaceId: ws.workspaceId, inboxId: inbox.id, settings: row.settings })).rejects.toMatchObject({ code: 'outbound.forbidden_address' });
  });
});

describe("with OUTBOUND_ALLOWED_NETWORKS listing the operator's relay (127.0.0.2/32 here)", () => {
  let rapport: TestServer;
  let ws: TestWorkspace;
  let sink: Awaited<ReturnType<typeof startSink>>;
  const captured = capturingLog();
  // The rebinding name: the relay on the first question, loopback (not allowed) on every later one.
  let rebindAnswers = 0;
  const rebinding: HostLookup = async (name) => {
    if (name !== 'rebind.attacker.test') throw Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' });
    return [{ address: rebindAnswers++ === 0 ? '127.0.0.2' : '127.0.0.1', family: 4 }];
  };

  beforeAll(async () => {
    sink = await startSink({ host: '127.0.0.2' });
    rapport = await startTestServer({ config: { outboundAllowedNetworks: ['127.0.0.2/32'] }, outboundLookup: rebinding, log: captured.log, modules: emailModule(500) });
    ws = await createTestWorkspace(rapport);
  });
  afterAll(async () => {
    await rapport?.stop();
    await sink?.close();
  });

  const api = () => client(rapport, ws.token, ws.workspaceId);

  it('accepts the listed network in any notation, and nothing beside it', async () => {
    for (const host of ['127.0.0.2', '0x7f000002', '[::ffff:127.0.0.2]']) {
      const res = await api().post('/inboxes', { name: host, channel: 'email', settings: { addresses: [`a${++seq}@relay.test`], smtp: { host, port: sink.port, tls: 'none' } } });
      expect(res.statusCode, host).toBe(201);
    }
    for (const host of ['127.0.0.1', '127.0.0.3', 'localhost', '10.0.0.2']) {
      const res = await api().post('/inboxes', { name: host, channel: 'email', settings: { addresses: [`a${++seq}@relay.test`], smtp: { host, port: sink.port, tls: 'none' } } });
      expect(res.json().code, host).toBe('outbound.forbidden_address');
    }
  });

  it('connects to the address it checked, so a name that rebinds to a forbidden one after the check is never reached', async () => {
    await createEmailInbox(rapport, ws, { addresses: ['rebind@shop.test'], smtp: { host: 'rebind.attacker.test', port: sink.port, tls: 'none' } }, 'Rebind');
    const conversationId = await inbound(rapport, 'rebind@shop.test');
    await replyAndWait(rapport, ws, conversationId, 'through the pinned relay', (d) => d.status === 'sent');
    expect(sink.received.filter((r) => r.raw.includes('through the pinned relay'))).toHaveLength(1);
    // One question per attempt: nodemailer got the checked IP and never resolved the name itself.
    expect(rebindAnswers).toBe(1);
    // The name now answers loopback: the next attempt is refused before any connection.
    const { delivery } = await replyAndWait(rapport, ws, conversationId, 'after the rebinding', (d) => d.status === 'failed');
    expect(delivery.error).toBe('email.connect_failed');
    expect(sink.received.filter((r) => r.raw.includes('after the rebinding'))).toHaveLength(0);
  });

  it('shows one generic error for a closed port, a server that never answers and a TLS failure (no port oracle)', async () => {
    const closed = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.2', () => {
        const port = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(port));
      });
    });
    const silent = net.createServer(() => {}); // accepts, never greets
    await new Promise<void>((r) => silent.listen(0, '127.0.0.2', r));
    const silentPort = (silent.address() as net.AddressInfo).port;
    try {
      const cases = [
        { name: 'closed', smtp: { host: '127.0.0.2', port: closed, tls: 'none' } },
        { name: 'silent', smtp: { host: '127.0.0.2', port: silentPort, tls: 'none' } },
        { name: 'tls', smtp: { host: '127.0.0.2', port: sink.port, tls: 'implicit' } },
      ];
      const seen: Record<string, unknown> = {};
      for (const c of cases) {
        await createEmailInbox(rapport, ws, { addresses: [`${c.name}@oracle.test`], smtp: c.smtp }, c.name);
        const conversationId = await inbound(rapport, `${c.name}@oracle.test`);
        // The first attempt's outcome (retries follow with backoff).
        const { delivery } = await replyAndWait(rapport, ws, conversationId, `probe ${c.name}`, (d) => Boolean(d.error));
        seen[c.name] = { status: delivery.status, error: delivery.error };
      }
      expect(seen).toEqual({
        closed: { status: 'queued', error: 'email.connect_failed' },
        silent: { status: 'queued', error: 'email.connect_failed' },
        tls: { status: 'queued', error: 'email.connect_failed' },
      });
      // The operator still learns what happened, from the log.
      const reasons = captured.lines.filter((l) => l.msg === 'email: delivery attempt failed').map((l) => String(l.err));
      expect(reasons.some((r) => /ECONNREFUSED/.test(r))).toBe(true);
    } finally {
      silent.close();
    }
  }, 30_000);
});

describe.skipIf(skipDovecotTests())('IMAP through a host name (Dovecot)', () => {
  let dovecot: Dovecot;
  let rapport: TestServer;
  let ws: TestWorkspace;
  // The harness allows loopback (where Dovecot listens); the name exists only in this resolver.
  const lookup = fakeLookup({ 'imap.relay.test': ['127.0.0.1'] });

  beforeAll(async () => {
    dovecot = await startDovecot({ pinned: 'pw-pinned' });
    rapport = await startTestServer({ outboundLookup: lookup, modules: emailModule(1000) });
    ws = await createTestWorkspace(rapport);
  });
  afterAll(async () => {
    await rapport?.stop();
    await dovecot?.stop();
  });

  it('polls the address the guard checked: ImapFlow is given the IP and never resolves the name itself', async () => {
    // Only this test's poll may look the name up: the background poller would claim the new mailbox too.
    await emailRuntimeOf(rapport.server).poller.stop();
    const inbox = await createEmailInbox(
      rapport,
      ws,
      { addresses: ['pinned@imap.test'], imap: { host: 'imap.relay.test', port: dovecot.port, tls: 'none', user: 'pinned', password: 'pw-pinned' } },
      'Pinned',
    );
    const imap = await dovecot.connect('pinned', 'pw-pinned');
    await imap.append('INBOX', 'From: ann@customer.test\r\nTo: pinned@imap.test\r\nSubject: pinned\r\nMessage-ID: <pinned1@customer.test>\r\n\r\nhello\r\n');
    await imap.logout();
    const [row] = await systemQuery<{ settings: EmailInboxSettings }>(rapport, 'select settings from inboxes where id = $1', [inbox.id]);
    const result = await emailRuntimeOf(rapport.server).poller.pollInbox({ workspaceId: ws.workspaceId, inboxId: inbox.id, settings: row.settings });
    expect(result).toEqual({ fetched: 1 });
    expect(lookup.calls).toEqual(['imap.relay.test']);
  });
});
