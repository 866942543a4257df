import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addTestMember, client, createTestWorkspace, eventually, signIn, startTestServer, tokenFor, type TestServer, type TestWorkspace } from '../../../test/helpers.js';
import { modules } from '../index.js';
import { createEmailModule } from './email/email.module.js';
import { createEmailInbox, sendRaw, smtpPortOf, startSink, systemQuery } from './email/email.testing.js';

/**
 * "Retry now" on a failed reply (issue #10): through the one outbound job and a local SMTP server that
 * refuses a recipient once (550, a permanent failure), then accepts.
 */
let rapport: TestServer;
let ws: TestWorkspace;
let sink: Awaited<ReturnType<typeof startSink>>;
const refusals = new Map<string, number[]>();
let seq = 0;

beforeAll(async () => {
  sink = await startSink({ refuse: (rcpt) => refusals.get(rcpt)?.shift() ?? null });
  // A reply the mail server refuses for now is tried again 5 s later (30 s by default).
  rapport = await startTestServer({ modules: modules.map((m) => (m.name === 'email' ? createEmailModule({ smtpTimeoutMs: 5000, retryBaseMs: 5000 }) : m)) });
  ws = await createTestWorkspace(rapport);
  await createEmailInbox(rapport, ws, { addresses: ['support@shop.test'], fromName: 'Shop Support', smtp: { host: '127.0.0.1', port: sink.port, tls: 'none' } });
});
afterAll(async () => {
  await rapport?.stop();
  await sink?.close();
});

const api = () => client(rapport, ws.token, ws.workspaceId);

async function inbound(from: string, to = 'support@shop.test'): Promise<string> {
  const id = `<retry${++seq}.${Date.now()}@customer.test>`;
  // Marked automatic so that no acknowledgement uses up the refusal queued for the address.
  const raw = [`From: ${from}`, `To: ${to}`, `Subject: Retry ${seq}`, 'Auto-Submitted: auto-generated', `Message-ID: ${id}`, '', 'hello', ''].join('\r\n');
  await sendRaw(smtpPortOf(rapport), raw, { from, to: [to] });
  return eventually(
    async () => (await systemQuery<{ conversation_id: string }>(rapport, 'select conversation_id from email_messages where rfc_message_id = $1', [id.slice(1, -1)]))[0]?.conversation_id,
  );
}

const deliveryOf = async (conversationId: string, messageId: string) =>
  (await api().get(`/conversations/${conversationId}/messages`)).json().items.find((i: { id: string }) => i.id === messageId)?.metadata.delivery;

describe('retrying a failed reply', () => {
  it('sends it again through the outbound job once the mail server takes it, with the same Message-ID', async () => {
    refusals.set('rita@customer.test', [550]);
    const c = await inbound('rita@customer.test');
    const reply = (await api().post(`/conversations/${c}/messages`, { type: 'reply', body: 'Your parcel ships today' })).json();
    const failed = await eventually(async () => {
      const d = await deliveryOf(c, reply.id);
      return d?.status === 'failed' ? d : null;
    }, 20_000);
    expect(failed.reason).toBe('email.delivery_rejected');
    expect(sink.received.filter((r) => r.raw.includes('Your parcel ships today'))).toHaveLength(0);

    const agent = client(rapport, await tokenFor(rapport, ws, 'agent'), ws.workspaceId);
    const res = await agent.post(`/conversations/${c}/messages/${reply.id}/retry-delivery`, {});
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ messageId: reply.id, status: 'queued' });
    const mail = await eventually(async () => sink.received.find((r) => r.raw.includes('Your parcel ships today')), 20_000);
    expect(mail.raw).toContain(`Message-ID: <${reply.id}@shop.test>`);
    expect(
      await eventually(async () => {
        const d = await deliveryOf(c, reply.id);
        return d?.status === 'sent' ? d : null;
      }),
    ).toMatchObject({ status: 'sent', reason: null, attempts: 1 });
    // The timeline says it: failed, queued again by the agent, sent.
    const events = (await api().get(`/conversations/${c}/events?exclude=message.created`)).json().items.filter((e: { type: string }) => e.type === 'message.delivery_changed');
    expect(events.map((e: { data: { status: string } }) => e.data.status)).toEqual(['queued', 'failed', 'queued', 'sent']);

    // Sent now: a second retry is refused with a code, and nothing is sent twice.
    const again = await agent.post(`/conversations/${c}/messages/${reply.id}/retry-delivery`, {});
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('channels.delivery_not_failed');
    expect(sink.received.filter((r) => r.raw.includes('Your parcel ships today'))).toHaveLength(1);
  }, 60_000);

  it('answers 404 for a note, a message of another conversation or another workspace, and 403 to a client viewer', async () => {
    const c = await inbound('nora@customer.test');
    const other = await inbound('otto@customer.test');
    const note = (await api().post(`/conversations/${c}/messages`, { type: 'note', body: 'internal' })).json();
    const reply = (await api().post(`/conversations/${other}/messages`, { type: 'reply', body: 'Hello Otto' })).json();
    for (const [conversationId, messageId] of [
      [c, note.id],
      [c, reply.id],
    ]) {
      const res = await api().post(`/conversations/${conversationId}/messages/${messageId}/retry-delivery`, {});
      expect(res.statusCode).toBe(404);
      expect(res.json().code).toBe('channels.delivery_not_found');
    }
    const elsewhere = await createTestWorkspace(rapport);
    const theirs = await client(rapport, elsewhere.token, elsewhere.workspaceId).post(`/conversations/${other}/messages/${reply.id}/retry-delivery`, {});
    expect(theirs.statusCode).toBe(404);
    await addTestMember(rapport, ws, 'client_viewer', 'viewer');
    const viewer = client(rapport, await tokenFor(rapport, ws, 'client_viewer'), ws.workspaceId);
    const forbidden = await viewer.post(`/conversations/${other}/messages/${reply.id}/retry-delivery`, {});
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.json().code).toBe('auth.forbidden');
  }, 60_000);

  it('tells the agent who wrote a reply that failed, in the bell: "Your reply on #N was not delivered"', async () => {
    const sam = await addTestMember(rapport, ws, 'agent', 'Sam');
    const session = await signIn(rapport, sam.email, sam.password);
    const as = (method: 'GET' | 'POST', url: string, payload?: unknown) =>
      rapport.app.inject({ method, url: `/api/v1/workspaces/${ws.workspaceId}${url}`, headers: { cookie: session.cookie, 'x-csrf-token': session.csrfToken }, ...(payload ? { payload } : {}) });
    refusals.set('fay@customer.test', [550]);
    const c = await inbound('fay@customer.test');
    const reply = (await as('POST', `/conversations/${c}/messages`, { type: 'reply', body: 'Your refund is approved' })).json();
    const number = (await api().get(`/conversations/${c}`)).json().number;
    const told = await eventually(
      async () => (await as('GET', '/notifications')).json().items.find((n: { kind: string; conversationId: string }) => n.kind === 'delivery_failed' && n.conversationId === c),
      20_000,
    );
    expect(told).toMatchObject({ conversationNumber: number, actor: { type: 'system', id: null, name: null }, excerpt: 'Your refund is approved', readAt: null });
    expect((await deliveryOf(c, reply.id)).status).toBe('failed');
    // Retried and sent: no second notification, and a retry that fails again would be a new one.
    expect((await as('POST', `/conversations/${c}/messages/${reply.id}/retry-delivery`, {})).statusCode).toBe(202);
    await eventually(async () => ((await deliveryOf(c, reply.id)).status === 'sent' ? true : null), 20_000);
    expect((await as('GET', '/notifications')).json().items.filter((n: { kind: string }) => n.kind === 'delivery_failed')).toHaveLength(1);
  }, 60_000);

  it('sends nothing through a disabled inbox: "Retry now" is refused, and a reply waiting for its next attempt fails with channel.inbox_disabled', async () => {
    const inbox = await createEmailInbox(rapport, ws, { addresses: ['held@shop.test'], smtp: { host: '127.0.0.1', port: sink.port, tls: 'none' } }, 'Held');
    const sent = (body: string) => sink.received.filter((r) => r.raw.includes(body));

    // A failed reply, then the inbox disabled: the retry is refused and nothing is queued.
    refusals.set('gus@customer.test', [550]);
    const c = await inbound('gus@customer.test', 'held@shop.test');
    const reply = (await api().post(`/conversations/${c}/messages`, { type: 'reply', body: 'Refund sent to Gus' })).json();
    await eventually(async () => ((await deliveryOf(c, reply.id))?.status === 'failed' ? true : null), 20_000);
    // A second reply the server refuses for now: it waits for its next attempt when the inbox is disabled.
    refusals.set('gus@customer.test', [451]);
    const waiting = (await api().post(`/conversations/${c}/messages`, { type: 'reply', body: 'Second note to Gus' })).json();
    await eventually(async () => {
      const d = await deliveryOf(c, waiting.id);
      return d?.status === 'queued' && d.attempts === 1 ? true : null;
    }, 20_000);
    expect((await api().post(`/inboxes/${inbox.id}/disable`, {})).statusCode).toBe(200);

    const res = await api().post(`/conversations/${c}/messages/${reply.id}/retry-delivery`, {});
    expect(res.statusCode).toBe(409);
    expect(res.json().code).toBe('inboxes.disabled');
    expect((await deliveryOf(c, reply.id)).status).toBe('failed');

    const settled = await eventually(async () => {
      const d = await deliveryOf(c, waiting.id);
      return d?.status === 'failed' ? d : null;
    }, 30_000);
    expect(settled).toMatchObject({ status: 'failed', reason: 'channel.inbox_disabled', attempts: 1 });
    expect(sent('Refund sent to Gus')).toHaveLength(0);
    expect(sent('Second note to Gus')).toHaveLength(0);

    // Enabled again, "Retry now" sends it.
    expect((await api().post(`/inboxes/${inbox.id}/enable`, {})).statusCode).toBe(200);
    expect((await api().post(`/conversations/${c}/messages/${waiting.id}/retry-delivery`, {})).statusCode).toBe(202);
    await eventually(async () => sent('Second note to Gus')[0], 20_000);
  }, 90_000);

  it('refuses "Retry now" for a reply refused before any attempt (no address to send to): a retry would fail the same way', async () => {
    const c = await inbound('ivy@customer.test');
    const customer = (await api().get(`/conversations/${c}`)).json().customer;
    const withPhone = (await api().post(`/customers/${customer.id}/identities`, { kind: 'phone', value: '+44 20 7946 0958' })).json();
    const email = withPhone.identities.find((i: { kind: string }) => i.kind === 'email');
    expect((await api().delete(`/customers/${customer.id}/identities/${email.id}`)).statusCode).toBe(200);
    const reply = (await api().post(`/conversations/${c}/messages`, { type: 'reply', body: 'Nowhere to go' })).json();
    const failed = await eventually(async () => {
      const d = await deliveryOf(c, reply.id);
      return d?.status === 'failed' ? d : null;
    }, 20_000);
    expect(failed).toMatchObject({ reason: 'email.no_recipient', attempts: 0 });
    const res = await api().post(`/conversations/${c}/messages/${reply.id}/retry-delivery`, {});
    expect(res.statusCode).toBe(409);
    expect(res.json().code).toBe('channels.delivery_not_retryable');
    expect((await deliveryOf(c, reply.id)).status).toBe('failed');
  }, 60_000);
});
