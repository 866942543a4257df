import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withSystem, withWorkspace } from '../../db/tenancy.js';
import { addTestMember, client, createTestWorkspace, eventually, signIn, startTestServer, type TestServer, type TestWorkspace } from '../../../test/helpers.js';
import { createEmailInbox, sendRaw, smtpPortOf, systemQuery } from '../channels/email/email.testing.js';
import { appendMessage } from './conversations.service.js';

/**
 * "Traffic cop": a reply written while someone else replied is refused with the new messages, until
 * the agent sends anyway or names the newest message as seen. Every reply path checks it: the core
 * reply, a macro's apply-and-send and the email channel's reply.
 */
let rapport: TestServer;
let ws: TestWorkspace;
let api: ReturnType<typeof client>;
// Each message a moment after the one before: the thread's order is by time, and a test must not depend on two writes landing in different milliseconds.
let tick = Date.parse('2026-03-02T10:00:00Z');
const clock = {
  now: () => {
    tick += 1000;
    return new Date(tick);
  },
};

beforeAll(async () => {
  rapport = await startTestServer({ clock });
  ws = await createTestWorkspace(rapport);
  api = client(rapport, ws.token, ws.workspaceId);
});
afterAll(async () => rapport?.stop());

async function conversation() {
  const c = (await api.post('/conversations', { customer: { email: `c${tick}@example.test`, name: 'Pat Doe' }, subject: 'Refund', message: { body: 'Where is my refund?' } })).json();
  const first = (await api.get(`/conversations/${c.id}/messages`)).json().items[0];
  return { id: c.id as string, customerId: c.customer.id as string, firstId: first.id as string };
}

async function customerWrites(conversationId: string, customerId: string, body: string) {
  const deps = { pool: rapport.pool, clock, workspaceId: ws.workspaceId, actor: { type: 'system' as const, id: null } };
  return withWorkspace(rapport.pool, ws.workspaceId, (tx) => appendMessage(tx, deps, { conversationId, type: 'inbound', author: { type: 'customer', id: customerId }, body, at: clock.now() }));
}

describe('a reply that collides', () => {
  it('is refused with 409 and the newer public messages (not notes, not my own) when the customer or another agent wrote after what I saw', async () => {
    const c = await conversation();
    const other = await addTestMember(rapport, ws, 'agent', 'Ana');
    const otherSession = await signIn(rapport, other.email, other.password);
    const otherReply = await rapport.app.inject({
      method: 'POST',
      url: `/api/v1/workspaces/${ws.workspaceId}/conversations/${c.id}/messages`,
      headers: { cookie: otherSession.cookie, 'x-csrf-token': otherSession.csrfToken },
      payload: { type: 'reply', body: 'I have refunded the order.' },
    });
    expect(otherReply.statusCode).toBe(201);
    expect((await api.post(`/conversations/${c.id}/messages`, { type: 'note', body: 'checking the payment' })).statusCode).toBe(201);
    await customerWrites(c.id, c.customerId, 'Thanks, got it!');

    const refused = await api.post(`/conversations/${c.id}/messages`, { type: 'reply', body: 'Your refund is on its way.', lastSeenMessageId: c.firstId });
    expect(refused.statusCode).toBe(409);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    const problem = refused.json();
    expect(problem).toMatchObject({ code: 'conversations.reply_collision', status: 409 });
    expect(problem.detail).toMatch(/customer replied/i);
    expect(problem.messages.map((m: { body: string; author: { name: string | null } }) => [m.body, m.author.name])).toEqual([
      ['I have refunded the order.', 'Ana'],
      ['Thanks, got it!', 'Pat Doe'],
    ]);
    // Nothing was sent.
    const thread = (await api.get(`/conversations/${c.id}/messages`)).json().items;
    expect(thread.map((m: { body: string }) => m.body)).not.toContain('Your refund is on its way.');

    // Having read them: the newest as seen, or "send anyway", sends.
    const newest = thread[thread.length - 1].id;
    expect((await api.post(`/conversations/${c.id}/messages`, { type: 'reply', body: 'Glad to help.', lastSeenMessageId: newest })).statusCode).toBe(201);
    expect((await api.post(`/conversations/${c.id}/messages`, { type: 'reply', body: 'One more thing.', lastSeenMessageId: c.firstId, sendAnyway: true })).statusCode).toBe(201);
  });

  it('does not collide with my own replies, with notes, or without lastSeenMessageId; a note never checks', async () => {
    const c = await conversation();
    expect((await api.post(`/conversations/${c.id}/messages`, { type: 'reply', body: 'First answer', lastSeenMessageId: c.firstId })).statusCode).toBe(201);
    expect((await api.post(`/conversations/${c.id}/messages`, { type: 'reply', body: 'Second answer', lastSeenMessageId: c.firstId })).statusCode).toBe(201);
    await customerWrites(c.id, c.customerId, 'Hello again');
    expect((await api.post(`/conversations/${c.id}/messages`, { type: 'note', body: 'a note', lastSeenMessageId: c.firstId })).statusCode).toBe(201);
    expect((await api.post(`/conversations/${c.id}/messages`, { type: 'reply', body: 'No check asked' })).statusCode).toBe(201);
  });

  it('answers 422 for a last seen message of another conversation, and 404 for another workspace’s conversation', async () => {
    const a = await conversation();
    const b = await conversation();
    const wrong = await api.post(`/conversations/${a.id}/messages`, { type: 'reply', body: 'Hi', lastSeenMessageId: b.firstId });
    expect(wrong.statusCode).toBe(422);
    expect(wrong.json().code).toBe('conversations.last_seen_not_found');
    const elsewhere = await createTestWorkspace(rapport);
    const theirs = client(rapport, elsewhere.token, elsewhere.workspaceId);
    const res = await theirs.post(`/conversations/${a.id}/messages`, { type: 'reply', body: 'Hi', lastSeenMessageId: a.firstId });
    expect(res.statusCode).toBe(404);
    expect(res.json().code).toBe('conversations.not_found');
  });

  it('guards a macro sent from the composer too, and nothing of the macro is applied', async () => {
    const c = await conversation();
    const macro = (await api.post('/macros', { name: `Close ${tick}`, body: 'Done, {{customer.first_name}}.', actions: { status: 'resolved' } })).json();
    await customerWrites(c.id, c.customerId, 'Wait, one more question');
    const res = await api.post(`/conversations/${c.id}/macros/${macro.id}/apply`, { send: true, type: 'reply', lastSeenMessageId: c.firstId });
    expect(res.statusCode).toBe(409);
    expect(res.json().messages.map((m: { body: string }) => m.body)).toEqual(['Wait, one more question']);
    expect((await api.get(`/conversations/${c.id}`)).json().status).toBe('open');
    const anyway = await api.post(`/conversations/${c.id}/macros/${macro.id}/apply`, { send: true, type: 'reply', lastSeenMessageId: c.firstId, sendAnyway: true });
    expect(anyway.statusCode).toBe(200);
  });

  it('lets only one of two email replies sent at the same moment by two agents through: the other is refused with the first one', async () => {
    const address = `race${tick}@shop.test`;
    await createEmailInbox(rapport, ws, { addresses: [address] });
    const id = `<race.${tick}@customer.test>`;
    const raw = ['From: Eve <eve@customer.test>', `To: ${address}`, 'Subject: Order', `Message-ID: ${id}`, '', 'Where is it?', ''].join('\r\n');
    await sendRaw(smtpPortOf(rapport), raw, { from: 'eve@customer.test', to: [address] });
    const conversationId = await eventually(
      async () => (await systemQuery<{ conversation_id: string }>(rapport, 'select conversation_id from email_messages where rfc_message_id = $1', [id.slice(1, -1)]))[0]?.conversation_id,
    );
    const first = (await api.get(`/conversations/${conversationId}/messages`)).json().items[0];
    const other = await addTestMember(rapport, ws, 'agent', 'Bo');
    const otherSession = await signIn(rapport, other.email, other.password);

    // Hold the conversation's row while both replies start, so both reach their check before either has written:
    // released once both wait on it, they go one after the other, and the second must see the first.
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let locked!: () => void;
    const isLocked = new Promise<void>((resolve) => {
      locked = resolve;
    });
    const holder = withSystem(rapport.pool, async (tx) => {
      await tx.query('select id from conversations where id = $1 for update', [conversationId]);
      locked();
      await held;
    });
    await isLocked;
    const url = `/api/v1/workspaces/${ws.workspaceId}/conversations/${conversationId}/email-replies`;
    const mine = rapport.app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${ws.token}` }, payload: { body: 'From me', lastSeenMessageId: first.id } });
    const theirs = rapport.app.inject({
      method: 'POST',
      url,
      headers: { cookie: otherSession.cookie, 'x-csrf-token': otherSession.csrfToken },
      payload: { body: 'From Bo', lastSeenMessageId: first.id },
    });
    await eventually(async () => {
      const [{ waiting }] = await systemQuery<{ waiting: number }>(rapport, "select count(*)::int as waiting from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'");
      return waiting >= 2;
    });
    release();
    await holder;
    const answers = await Promise.all([mine, theirs]);
    expect(answers.map((r) => r.statusCode).sort()).toEqual([201, 409]);
    const refused = answers.find((r) => r.statusCode === 409)!.json();
    expect(refused.code).toBe('conversations.reply_collision');
    const sent = answers.find((r) => r.statusCode === 201)!.json();
    expect(refused.messages.map((m: { id: string }) => m.id)).toEqual([sent.messageId]);
  });

  it('guards the email channel’s reply (Cc, attachments) too', async () => {
    await createEmailInbox(rapport, ws, { addresses: ['collide@shop.test'] });
    const id = `<collide.${tick}@customer.test>`;
    const raw = ['From: Eve <eve@customer.test>', 'To: collide@shop.test', 'Subject: Order', `Message-ID: ${id}`, '', 'Where is it?', ''].join('\r\n');
    await sendRaw(smtpPortOf(rapport), raw, { from: 'eve@customer.test', to: ['collide@shop.test'] });
    const conversationId = await eventually(
      async () => (await systemQuery<{ conversation_id: string }>(rapport, 'select conversation_id from email_messages where rfc_message_id = $1', [id.slice(1, -1)]))[0]?.conversation_id,
    );
    const first = (await api.get(`/conversations/${conversationId}/messages`)).json().items[0];
    const customerId = (await api.get(`/conversations/${conversationId}`)).json().customer.id;
    await customerWrites(conversationId, customerId, 'Any news?');
    const res = await api.post(`/conversations/${conversationId}/email-replies`, { body: 'It ships today', cc: ['boss@customer.test'], lastSeenMessageId: first.id });
    expect(res.statusCode).toBe(409);
    expect(res.json().messages.map((m: { body: string }) => m.body)).toEqual(['Any news?']);
    const anyway = await api.post(`/conversations/${conversationId}/email-replies`, { body: 'It ships today', cc: ['boss@customer.test'], lastSeenMessageId: first.id, sendAnyway: true });
    expect(anyway.statusCode).toBe(201);
  });
});
