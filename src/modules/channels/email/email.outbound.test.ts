import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addTestMember, client, signIn, createTestWorkspace, eventually, startTestServer, type TestServer, type TestWorkspace } from '../../../../test/helpers.js';
import { createEmailInbox, sendRaw, smtpDialog, smtpPortOf, startSink, systemQuery } from './email.testing.js';
import { modules } from '../../index.js';
import { withWorkspace } from '../../../db/tenancy.js';
import { backoffMs, channelSendTask, queueDelivery, retryOf } from '../channels.outbound.js';
import type { ChannelAdapter } from '../channels.registry.js';
import { emailOutbound } from './email.outbound.js';
import { createEmailModule, loadEmailOptions } from './email.module.js';

let rapport: TestServer;
let ws: TestWorkspace;
let port: number;
let sink: Awaited<ReturnType<typeof startSink>>;
const refusals = new Map<string, number[]>();
const afterData = new Map<string, number[]>();
let seq = 0;

beforeAll(async () => {
  // The sink answers with the codes queued for an address, then accepts.
  sink = await startSink({ refuse: (rcpt) => refusals.get(rcpt)?.shift() ?? null, failAfterData: (to) => afterData.get(to[0])?.shift() ?? null });
  rapport = await startTestServer({
    modules: modules.map((m) => (m.name === 'email' ? createEmailModule({ smtpTimeoutMs: 2000, retryBaseMs: 5000 }) : m)),
  });
  ws = await createTestWorkspace(rapport);
  port = smtpPortOf(rapport);
  await createEmailInbox(rapport, ws, {
    addresses: ['support@shop.test'],
    fromName: 'Shop Support',
    smtp: { host: '127.0.0.1', port: sink.port, tls: 'none' },
    autoAck: { enabled: true, subject: 'We got it [#{{number}}]', body: 'Hello {{name}}, reference #{{number}}. We usually reply within a day.' },
  });
});
afterAll(async () => {
  await rapport?.stop();
  await sink?.close();
});

const api = () => client(rapport, ws.token, ws.workspaceId);

async function inbound(headers: Record<string, string>, body = 'hello', envelopeFrom?: string) {
  const id = `<in${++seq}.${Date.now()}@customer.test>`;
  const raw = [...Object.entries({ To: 'support@shop.test', Subject: `Case ${seq}`, ...headers, 'Message-ID': id }).map(([k, v]) => `${k}: ${v}`), '', body, ''].join('\r\n');
  const from = envelopeFrom ?? /<?([^<>\s]+@[^<>\s]+)>?$/.exec(headers.From)![1];
  await sendRaw(port, raw, { from, to: ['support@shop.test'] });
  return eventually(async () => {
    const rows = await systemQuery<{ conversation_id: string }>(rapport, 'select conversation_id from email_messages where rfc_message_id = $1', [id.slice(1, -1)]);
    return rows[0]?.conversation_id;
  });
}

const received = (pred: (r: { to: string[]; raw: string }) => boolean) => sink.received.filter(pred);

describe('outbound email', () => {
  it("sends an agent reply with a stable Message-ID, threading headers, the agent's name and text + HTML parts", async () => {
    const agent = await addTestMember(rapport, ws, 'agent', 'Sam');
    const conversationId = await inbound({ From: 'Ann <ann@customer.test>' });
    const session = await signIn(rapport, agent.email, agent.password);
    const res = await rapport.app.inject({
      method: 'POST',
      url: `/api/v1/workspaces/${ws.workspaceId}/conversations/${conversationId}/messages`,
      headers: { cookie: session.cookie, 'x-csrf-token': session.csrfToken },
      payload: { type: 'reply', body: 'It ships today.', html: '<p>It ships <b>today</b>.</p>' },
    });
    expect(res.statusCode).toBe(201);
    const messageId = res.json().id;
    const mail = await eventually(async () => received((r) => r.raw.includes('It ships today.'))[0], 15_000);
    expect(mail.to).toEqual(['ann@customer.test']);
    expect(mail.raw).toMatch(new RegExp(`^Message-ID: <${messageId}@shop\\.test>`, 'm'));
    expect(mail.raw).toMatch(/^In-Reply-To: <in\d+\.\d+@customer\.test>/m);
    expect(mail.raw).toMatch(/^References: <in\d+\.\d+@customer\.test>/m);
    expect(mail.raw).toMatch(/^From: "?Sam \(Shop Support\)"? <support@shop\.test>/m);
    expect(mail.raw).toMatch(/^Reply-To: .*<support\+[a-z2-7]{26}@shop\.test>/m);
    expect(mail.raw).toMatch(/Content-Type: multipart\/alternative/);
    expect(mail.raw).toMatch(/<b>today<\/b>/);
    const m = await eventually(async () => {
      const items = (await api().get(`/conversations/${conversationId}/messages`)).json().items;
      const out = items.find((i: { id: string }) => i.id === messageId);
      return out?.metadata.delivery?.status === 'sent' ? out : null;
    });
    expect(m.metadata.email).toMatchObject({ messageId: `${messageId}@shop.test`, to: [{ address: 'ann@customer.test' }] });
    // One delivery status for every channel; email's provider id is its Message-ID.
    expect(m.metadata.delivery).toMatchObject({ status: 'sent', reason: null, attempts: 1, providerId: `${messageId}@shop.test` });
  });

  it('sends a reply with Cc, and refuses ambiguous Cc addresses with a coded error (E14)', async () => {
    const conversationId = await inbound({ From: 'cara@customer.test' });
    const bad = await api().post(`/conversations/${conversationId}/email-replies`, { body: 'x', cc: ['"v@x.com x"@evil.com'] });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().code).toBe('email.ambiguous_recipient');
    const bad2 = await api().post(`/conversations/${conversationId}/email-replies`, { body: 'x', cc: ['"user"@example.com(x)evil.com'] });
    expect(bad2.json().code).toBe('email.ambiguous_recipient');
    const ok = await api().post(`/conversations/${conversationId}/email-replies`, { body: 'With a copy to Dan', cc: ['Dan@Customer.test'] });
    expect(ok.statusCode).toBe(201);
    const mail = await eventually(async () => received((r) => r.raw.includes('With a copy to Dan'))[0], 15_000);
    expect(mail.to.sort()).toEqual(['cara@customer.test', 'dan@customer.test']);
    expect(mail.raw).toMatch(/^Cc: dan@customer\.test/m);
  });

  it('never lets a subject or a customer name add a header (E14)', async () => {
    const evilSubject = Buffer.from('Hi\r\nBcc: x@evil.test').toString('base64');
    const evilName = Buffer.from('Eve\r\nBcc: y@evil.test').toString('base64');
    const conversationId = await inbound({ From: `=?utf-8?B?${evilName}?= <eve@customer.test>`, Subject: `=?utf-8?B?${evilSubject}?=` });
    await api().post(`/conversations/${conversationId}/messages`, { type: 'reply', body: 'No injection here' });
    const mail = await eventually(async () => received((r) => r.raw.includes('No injection here'))[0], 15_000);
    expect(mail.to).toEqual(['eve@customer.test']);
    const headers = mail.raw.slice(0, mail.raw.indexOf('\r\n\r\n'));
    expect(headers).not.toMatch(/^bcc:/im);
    expect(headers).toMatch(/^Subject: Re: Hi Bcc: x@evil\.test/m);
  });

  it('marks the delivery failed, without sending, when the customer address is ambiguous (E14)', async () => {
    const conversationId = await inbound({ From: '"v@x.com x"@evil.com' }, 'hi', 'odd@evil.com');
    const res = await api().post(`/conversations/${conversationId}/messages`, { type: 'reply', body: 'Should never leave' });
    const m = await eventually(async () => {
      const items = (await api().get(`/conversations/${conversationId}/messages`)).json().items;
      const out = items.find((i: { id: string }) => i.id === res.json().id);
      return out?.metadata.delivery?.status === 'failed' ? out : null;
    });
    expect(m.metadata.delivery.reason).toBe('email.ambiguous_recipient');
    expect(received((r) => r.raw.includes('Should never leave'))).toHaveLength(0);
  });

  it('retries a temporary refusal with backoff and keeps the same Message-ID; a permanent one fails with a generic code (M4)', async () => {
    refusals.set('tom@customer.test', [451]);
    // (Marked automatic so that no acknowledgement uses up the refusal queued for the address.)
    const c1 = await inbound({ From: 'tom@customer.test', 'Auto-Submitted': 'auto-generated' });
    const r1 = await api().post(`/conversations/${c1}/messages`, { type: 'reply', body: 'Second time lucky' });
    const mail = await eventually(async () => received((r) => r.raw.includes('Second time lucky'))[0], 25_000).catch(async (e) => {
      console.log(await systemQuery(rapport, 'select status, error, attempts from channel_messages where message_id = $1', [r1.json().id]));
      throw e;
    });
    expect(mail.raw).toContain(`Message-ID: <${r1.json().id}@shop.test>`);
    const retried = await eventually(async () => {
      const out = (await api().get(`/conversations/${c1}/messages`)).json().items.find((i: { id: string }) => i.id === r1.json().id);
      return out?.metadata.delivery?.status === 'sent' ? out.metadata.delivery : null;
    });
    expect(retried).toMatchObject({ attempts: 2, reason: null });
    refusals.set('pat@customer.test', [550]);
    const c2 = await inbound({ From: 'pat@customer.test', 'Auto-Submitted': 'auto-generated' });
    const r2 = await api().post(`/conversations/${c2}/messages`, { type: 'reply', body: 'Never arrives' });
    const m = await eventually(async () => {
      const items = (await api().get(`/conversations/${c2}/messages`)).json().items;
      const out = items.find((i: { id: string }) => i.id === r2.json().id);
      return out?.metadata.delivery?.status === 'failed' ? out : null;
    }, 15_000);
    // The server's words stay in the log: agents see a stable code (SECURITY M4).
    expect(m.metadata.delivery.reason).toBe('email.delivery_rejected');
  }, 40_000);
});

describe('a resend', () => {
  it('is the same email: a mail the server took without the sender learning it is sent again with the same Message-ID (SECURITY L2)', async () => {
    afterData.set('lou@customer.test', [451]);
    const conversationId = await inbound({ From: 'lou@customer.test', 'Auto-Submitted': 'auto-generated' });
    const reply = await api().post(`/conversations/${conversationId}/messages`, { type: 'reply', body: 'Said twice, sent as one' });
    const messageId = reply.json().id;
    const copies = await eventually(async () => {
      const found = received((r) => r.raw.includes('Said twice, sent as one'));
      return found.length === 2 ? found : null;
    }, 25_000);
    for (const copy of copies) expect(copy.raw).toMatch(new RegExp(`^Message-ID: <${messageId}@shop\\.test>`, 'm'));
    const delivery = await eventually(async () => {
      const out = (await api().get(`/conversations/${conversationId}/messages`)).json().items.find((i: { id: string }) => i.id === messageId);
      return out?.metadata.delivery?.status === 'sent' ? out.metadata.delivery : null;
    });
    expect(delivery).toMatchObject({ attempts: 2, providerId: `${messageId}@shop.test` });
  }, 40_000);
});

describe('email retries', () => {
  it('outlast greylisting and a 15-minute outage by default: 30 s doubling over 8 attempts', () => {
    const adapter = { outbound: emailOutbound(() => ({ smtpTimeoutMs: 30_000, retryBaseMs: loadEmailOptions({}).retryBaseMs })) } as unknown as ChannelAdapter;
    expect(retryOf(adapter).maxAttempts).toBe(8);
    expect(backoffMs(adapter, 2)).toBe(30_000);
    let total = 0;
    for (let next = 2; next <= 8; next++) total += backoffMs(adapter, next);
    expect(total).toBeGreaterThan(45 * 60_000);
  });
});

describe('a refusal in the prepare step', () => {
  it('fails the delivery with its code at once instead of leaving it queued', async () => {
    // Refused for now until its email row is gone, so it stays queued whatever the real jobs do.
    refusals.set('ivy@customer.test', [451, 451, 451, 451]);
    const conversationId = await inbound({ From: 'ivy@customer.test', 'Auto-Submitted': 'auto-generated' });
    const messageId = (await api().post(`/conversations/${conversationId}/messages`, { type: 'reply', body: 'Lost row' })).json().id as string;
    await eventually(async () => (await systemQuery(rapport, "select 1 from channel_messages where message_id = $1 and status = 'queued' and attempts >= 1", [messageId])).length === 1, 20_000);
    // Its email row is gone before the next attempt: prepare refuses with email.no_recipient (permanent).
    await systemQuery(rapport, "delete from email_messages where message_id = $1 and direction = 'outbound'", [messageId]);
    const [delivery] = await systemQuery<{ id: string; attempts: number }>(rapport, 'select id, attempts from channel_messages where message_id = $1', [messageId]);
    await channelSendTask(rapport.server)({ workspaceId: ws.workspaceId, deliveryId: delivery.id, attempt: delivery.attempts + 1 }, {} as never);
    const [row] = await systemQuery<{ status: string; error: string }>(rapport, 'select status, error from channel_messages where id = $1', [delivery.id]);
    expect(row).toMatchObject({ status: 'failed', error: 'email.no_recipient' });
  });
});

describe('an upgrade', () => {
  it("records a reply an older version's own job already sent or failed, and queues no second attempt", async () => {
    const conversationId = await inbound({ From: 'Lea <lea@customer.test>' });
    for (const [legacy, body] of [
      ['sent', 'Sent before the upgrade'],
      ['failed', 'Failed before the upgrade'],
    ] as const) {
      const messageId = (await api().post(`/conversations/${conversationId}/messages`, { type: 'reply', body })).json().id as string;
      await eventually(async () => received((r) => r.raw.includes(body)).length === 1, 20_000);
      await eventually(async () => (await systemQuery(rapport, "select 1 from channel_messages where message_id = $1 and status = 'sent'", [messageId])).length === 1);
      // As an older version left it: its own email row settled by its own job, no channel_messages row.
      await systemQuery(rapport, 'delete from channel_messages where message_id = $1', [messageId]);
      await systemQuery(rapport, "update email_messages set delivery_status = $2, delivery_error = $3 where message_id = $1 and direction = 'outbound'", [
        messageId,
        legacy,
        legacy === 'failed' ? 'email.delivery_rejected' : null,
      ]);
      // A job or subscriber delivery left by that version forwards the reply to the core.
      await withWorkspace(rapport.pool, ws.workspaceId, (tx) => queueDelivery(tx, rapport.server, ws.workspaceId, conversationId, messageId));
      const [row] = await systemQuery<{ id: string; status: string; error: string | null }>(rapport, 'select id, status, error from channel_messages where message_id = $1', [messageId]);
      expect(row).toMatchObject({ status: legacy, error: legacy === 'failed' ? 'email.delivery_rejected' : null });
      expect(await systemQuery(rapport, 'select 1 from graphile_worker.jobs where key like $1', [`channels.send:${row.id}:%`])).toHaveLength(0);
      const [email] = await systemQuery<{ delivery_status: string }>(rapport, "select delivery_status from email_messages where message_id = $1 and direction = 'outbound'", [messageId]);
      expect(email.delivery_status).toBe(legacy);
    }
  });
});

describe('auto-acknowledgement', () => {
  it('answers a person once per conversation, marked Auto-Submitted, with the reference number', async () => {
    const conversationId = await inbound({ From: 'Nina <nina@customer.test>' });
    const number = (await api().get(`/conversations/${conversationId}`)).json().number;
    const ack = await eventually(async () => received((r) => r.to[0] === 'nina@customer.test' && r.raw.includes('Auto-Submitted'))[0], 15_000);
    expect(ack.raw).toContain(`We got it [#${number}]`);
    expect(ack.raw).toMatch(/^Auto-Submitted: auto-replied/m);
    expect(ack.raw).toContain(`reference #${number}`);
  });

  it('never answers automatic, bulk or bounce mail (RFC 3834, E11)', async () => {
    await inbound({ From: 'robot1@customer.test', 'Auto-Submitted': 'auto-replied' });
    await inbound({ From: 'robot2@customer.test', Precedence: 'bulk' });
    await inbound({ From: 'robot3@customer.test', 'List-Id': '<news.customer.test>' });
    // A bounce: the null reverse-path, MAIL FROM:<> (RFC 5321 §4.5.5).
    const bounce = await smtpDialog(port, [
      'EHLO mx',
      'MAIL FROM:<>',
      'RCPT TO:<support@shop.test>',
      'DATA',
      'From: robot4@customer.test\r\nTo: support@shop.test\r\nSubject: Undeliverable\r\nMessage-ID: <bounce1@customer.test>\r\n\r\nbounce\r\n.',
      'QUIT',
    ]);
    expect(bounce.filter((l) => l.startsWith('250 ')).length).toBeGreaterThanOrEqual(3);
    await inbound({ From: 'human@customer.test' });
    await eventually(async () => received((r) => r.to[0] === 'human@customer.test')[0], 15_000);
    expect(received((r) => /robot\d@/.test(r.to[0])).map((r) => r.to[0])).toEqual([]);
  });

  it('throttles acknowledgements per recipient (E12)', async () => {
    const conversations: string[] = [];
    for (let i = 0; i < 6; i++) conversations.push(await inbound({ From: 'victim@customer.test', Subject: `spam ${i}` }));
    // Every acknowledgement decided (each conversation's job has run, sending or throttling), then
    // every one decided to go has gone out: only then is the count at the sink final.
    await eventually(async () => (await systemQuery(rapport, 'select 1 from graphile_worker.jobs where key = any($1::text[])', [conversations.map((c) => `email.autoack:${c}`)])).length === 0, 15_000);
    const acks = await systemQuery<{ id: string }>(rapport, "select id from email_messages where kind = 'auto_ack' and conversation_id = any($1::uuid[])", [conversations]);
    await eventually(async () => (await systemQuery(rapport, "select 1 from email_messages where id = any($1::uuid[]) and delivery_status = 'queued'", [acks.map((a) => a.id)])).length === 0, 15_000);
    expect(acks).toHaveLength(3);
    expect(received((r) => r.to[0] === 'victim@customer.test')).toHaveLength(3);
  });
});
