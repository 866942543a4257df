import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withWorkspace } from '../../db/tenancy.js';
import { addTestMember, client, createTestWorkspace, eventually, signIn, tokenFor, type TestServer, type TestWorkspace, startWithWorkspace } from '../../../test/helpers.js';

let rapport: TestServer;
let ws: TestWorkspace;
let api: ReturnType<typeof client>;

beforeAll(async () => ({ rapport, ws, api } = await startWithWorkspace()));
afterAll(async () => rapport?.stop());

const newConversation = (over: Record<string, unknown> = {}) => ({
  customer: { email: 'Ann@Example.com', name: 'Ann' },
  subject: 'Where is my order?',
  message: { body: 'It was due on Monday.' },
  ...over,
});

describe('creating a conversation', () => {
  it('opens it with its first inbound message, a per-workspace number and a new customer', async () => {
    const res = await api.post('/conversations', newConversation());
    expect(res.statusCode).toBe(201);
    const c = res.json();
    expect(c).toMatchObject({ number: 1001, status: 'open', priority: 'normal', subject: 'Where is my order?', channel: 'api', messageCount: 1 });
    expect(c.customer).toMatchObject({ email: 'ann@example.com', name: 'Ann' });
    expect(c.waitingSince).toBe(c.createdAt);
    const messages = (await api.get(`/conversations/${c.id}/messages`)).json();
    expect(messages.items).toHaveLength(1);
    expect(messages.items[0]).toMatchObject({ type: 'inbound', body: 'It was due on Monday.', author: { type: 'customer', id: c.customer.id, name: 'Ann' } });
  });

  it('finds the existing customer by identity instead of creating another', async () => {
    const a = (await api.post('/conversations', newConversation())).json();
    const b = (await api.post('/conversations', newConversation({ customer: { email: 'ann@example.COM' } }))).json();
    expect(b.customer.id).toBe(a.customer.id);
    expect(b.number).toBe(a.number + 1);
  });

  it('records the events of a create with their payloads, indexes subject and message for search, and writes nothing for an unknown inbox', async () => {
    const c = (await api.post('/conversations', newConversation({ customer: { email: 'payloads@example.test', name: 'Pay' }, subject: 'Parcel zeppelin', message: { body: 'quokka' } }))).json();
    const messageId = (await api.get(`/conversations/${c.id}/messages`)).json().items[0].id;
    const events = (await api.get(`/conversations/${c.id}/events`)).json().items;
    expect(events.map((e: { type: string; data: unknown }) => [e.type, e.data])).toEqual([
      ['conversation.created', { number: c.number, inboxId: ws.inboxId, customerId: c.customer.id }],
      ['message.created', { messageId, messageType: 'inbound' }],
    ]);
    const customerEvents = await withWorkspace(
      rapport.pool,
      ws.workspaceId,
      async (tx) => (await tx.query("select data from events where workspace_id = $1 and type = 'customer.created' and data->>'customerId' = $2", [ws.workspaceId, c.customer.id])).rows,
    );
    expect(customerEvents).toEqual([{ data: { customerId: c.customer.id } }]);
    for (const word of ['zeppelin', 'quokka']) {
      expect((await api.get(`/conversations?q=${word}`)).json().items.map((i: { id: string }) => i.id)).toEqual([c.id]);
    }
    const missing = await api.post('/conversations', newConversation({ inboxId: '00000000-0000-4000-8000-000000000000', customer: { email: 'nobody-yet@example.test' } }));
    expect(missing.statusCode).toBe(404);
    const left = await withWorkspace(
      rapport.pool,
      ws.workspaceId,
      async (tx) => (await tx.query("select count(*)::int as n from customer_identities where workspace_id = $1 and value = 'nobody-yet@example.test'", [ws.workspaceId])).rows[0].n,
    );
    expect(left).toBe(0);
  });

  it('sanitizes HTML bodies on the way in', async () => {
    const c = (
      await api.post(
        '/conversations',
        newConversation({ message: { body: 'hi', html: '<p onclick="x()">hi<script>alert(1)</script><img src=x onerror=alert(1)><a href="javascript:alert(1)">l</a></p>' } }),
      )
    ).json();
    const m = (await api.get(`/conversations/${c.id}/messages`)).json().items[0];
    expect(m.html).not.toMatch(/script|onerror|onclick|javascript:/i);
    expect(m.html).toContain('<p>hi');
  });
});

describe('working a conversation', () => {
  it('records replies, notes, assignment, tags and status as timeline events', async () => {
    const agent = await addTestMember(rapport, ws, 'agent', 'Sam');
    const c = (await api.post('/conversations', newConversation())).json();
    const reply = await api.post(`/conversations/${c.id}/messages`, { type: 'reply', body: 'On its way!' });
    expect(reply.statusCode).toBe(201);
    expect(reply.json()).toMatchObject({ type: 'outbound', author: { type: 'token' } });
    expect((await api.post(`/conversations/${c.id}/messages`, { type: 'note', body: 'courier delayed' })).json().type).toBe('note');
    const patched = await api.patch(`/conversations/${c.id}`, { assigneeId: agent.id, tags: ['Shipping', 'shipping', 'vip'], priority: 'high', status: 'resolved' });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({ assigneeId: agent.id, tags: ['shipping', 'vip'], priority: 'high', status: 'resolved', waitingSince: null });
    expect(patched.json().firstResponseAt).not.toBeNull();
    expect(patched.json().resolvedAt).not.toBeNull();
    const events = (await api.get(`/conversations/${c.id}/events`)).json().items.map((e: { type: string }) => e.type);
    expect(events).toEqual([
      'conversation.created',
      'message.created',
      'message.created',
      'message.created',
      'conversation.status_changed',
      'conversation.priority_changed',
      'conversation.assigned',
      'conversation.tags_changed',
    ]);
  });
});

describe('the timeline', () => {
  it('leaves out the event types asked for, and pages the rest with cursors', async () => {
    const c = (await api.post('/conversations', newConversation())).json();
    for (let i = 0; i < 5; i++) await api.post(`/conversations/${c.id}/messages`, { type: 'note', body: `note ${i}` });
    await api.patch(`/conversations/${c.id}`, { status: 'pending' });
    await api.patch(`/conversations/${c.id}`, { priority: 'urgent' });
    const all = (await api.get(`/conversations/${c.id}/events?limit=100`)).json().items;
    expect(all).toHaveLength(9);
    const first = (await api.get(`/conversations/${c.id}/events?limit=2&exclude=message.created`)).json();
    expect(first.items.map((e: { type: string }) => e.type)).toEqual(['conversation.created', 'conversation.status_changed']);
    const second = (await api.get(`/conversations/${c.id}/events?limit=2&exclude=message.created&cursor=${first.nextCursor}`)).json();
    expect(second.items.map((e: { type: string }) => e.type)).toEqual(['conversation.priority_changed']);
    expect(second.nextCursor).toBeNull();
    const both = (await api.get(`/conversations/${c.id}/events?exclude=message.created&exclude=conversation.created`)).json().items;
    expect(both.map((e: { type: string }) => e.type)).toEqual(['conversation.status_changed', 'conversation.priority_changed']);
    expect((await api.get(`/conversations/${c.id}/events?exclude=not%20a%20type`)).statusCode).toBe(422);
  });
});

describe('the inbox list', () => {
  it('pages through every conversation exactly once by last activity, with cursors', async () => {
    const own = await createTestWorkspace(rapport);
    const o = client(rapport, own.token, own.workspaceId);
    const created: string[] = [];
    for (let i = 0; i < 23; i++) created.push((await o.post('/conversations', newConversation({ customer: { email: `p${i}@example.test` } }))).json().id);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await o.get(`/conversations?limit=5${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.statusCode).toBe(200);
      const page = res.json();
      seen.push(...page.items.map((c: { id: string }) => c.id));
      const times = page.items.map((c: { lastActivityAt: string }) => c.lastActivityAt);
      expect([...times].sort().reverse()).toEqual(times);
      cursor = page.nextCursor;
      pages++;
    } while (cursor && pages < 20);
    expect(seen).toHaveLength(23);
    expect(new Set(seen)).toEqual(new Set(created));
  });

  it('filters by status, assignee (me, none, id), team, priority, tag, customer, inbox and text', async () => {
    const own = await createTestWorkspace(rapport);
    const o = client(rapport, own.token, own.workspaceId);
    const agent = await addTestMember(rapport, own, 'agent', 'Kim');
    const team = (await o.post('/teams', { name: 'Tier 2', memberIds: [agent.id] })).json();
    const c1 = (await o.post('/conversations', newConversation({ subject: 'Refund for broken kettle', customer: { email: 'k1@example.test' } }))).json();
    const c2 = (await o.post('/conversations', newConversation({ subject: 'Login trouble', customer: { email: 'k2@example.test' }, priority: 'urgent', tags: ['Auth'] }))).json();
    const c3 = (await o.post('/conversations', newConversation({ subject: 'Other', customer: { email: 'k3@example.test' }, message: { body: 'the zeppelin never came' } }))).json();
    await o.patch(`/conversations/${c1.id}`, { assigneeId: agent.id, teamId: team.id });
    await o.patch(`/conversations/${c3.id}`, { status: 'pending' });
    const ids = async (q: string, api = o) =>
      (await api.get(`/conversations?${q}`))
        .json()
        .items.map((c: { id: string }) => c.id)
        .sort();
    const sorted = (...xs: { id: string }[]) => xs.map((x) => x.id).sort();
    expect(await ids('status=open')).toEqual(sorted(c1, c2));
    expect(await ids('status=open&status=pending')).toEqual(sorted(c1, c2, c3));
    expect(await ids(`assignee=${agent.id}`)).toEqual(sorted(c1));
    expect(await ids('assignee=none')).toEqual(sorted(c2, c3));
    expect(await ids(`team=${team.id}`)).toEqual(sorted(c1));
    expect(await ids('team=none')).toEqual(sorted(c2, c3));
    expect(await ids('priority=urgent')).toEqual(sorted(c2));
    expect(await ids('tag=auth')).toEqual(sorted(c2));
    expect(await ids(`customer=${c3.customer.id}`)).toEqual(sorted(c3));
    expect(await ids(`inbox=${own.inboxId}`)).toEqual(sorted(c1, c2, c3));
    expect(await ids('q=kettle')).toEqual(sorted(c1));
    expect(await ids('q=zeppelin')).toEqual(sorted(c3));
    expect(await ids('q=k2%40example.test')).toEqual(sorted(c2));
    expect(await ids(`q=%23${c2.number}`)).toEqual(sorted(c2));
    // "me" is the signed-in person; a token is nobody, so it sees the unassigned.
    const s = await signIn(rapport, agent.email, agent.password);
    const mine = await rapport.app.inject({ method: 'GET', url: `/api/v1/workspaces/${own.workspaceId}/conversations?assignee=me`, headers: { cookie: s.cookie } });
    expect(mine.json().items.map((c: { id: string }) => c.id)).toEqual([c1.id]);
  });

  it('sorts by who has waited longest, answered conversations last', async () => {
    const own = await createTestWorkspace(rapport);
    const o = client(rapport, own.token, own.workspaceId);
    const first = (await o.post('/conversations', newConversation({ customer: { email: 'w1@example.test' } }))).json();
    const second = (await o.post('/conversations', newConversation({ customer: { email: 'w2@example.test' } }))).json();
    const third = (await o.post('/conversations', newConversation({ customer: { email: 'w3@example.test' } }))).json();
    await o.post(`/conversations/${first.id}/messages`, { type: 'reply', body: 'answered' });
    const page1 = (await o.get('/conversations?sort=waiting_longest&limit=2')).json();
    expect(page1.items.map((c: { id: string }) => c.id)).toEqual([second.id, third.id]);
    const page2 = (await o.get(`/conversations?sort=waiting_longest&limit=2&cursor=${page1.nextCursor}`)).json();
    expect(page2.items.map((c: { id: string }) => c.id)).toEqual([first.id]);
  });
});

describe('snoozing', () => {
  it('needs a time in the future and clears it when the conversation reopens', async () => {
    const c = (await api.post('/conversations', newConversation())).json();
    expect((await api.patch(`/conversations/${c.id}`, { status: 'snoozed' })).json().code).toBe('conversations.snooze_needs_until');
    expect((await api.patch(`/conversations/${c.id}`, { status: 'snoozed', snoozedUntil: '2001-01-01T00:00:00Z' })).statusCode).toBe(422);
    const until = new Date(Date.now() + 3600_000).toISOString();
    const snoozed = (await api.patch(`/conversations/${c.id}`, { status: 'snoozed', snoozedUntil: until })).json();
    expect(snoozed).toMatchObject({ status: 'snoozed', snoozedUntil: until });
    const reopened = (await api.patch(`/conversations/${c.id}`, { status: 'open' })).json();
    expect(reopened).toMatchObject({ status: 'open', snoozedUntil: null });
  });

  it('brings the conversation back to the inbox when the snooze ends', async () => {
    const c = (await api.post('/conversations', newConversation())).json();
    await api.patch(`/conversations/${c.id}`, { status: 'snoozed', snoozedUntil: new Date(Date.now() + 60_000).toISOString() });
    // Snoozing again moves the wake-up: only the latest time counts.
    const soon = new Date(Date.now() + 1500).toISOString();
    expect((await api.patch(`/conversations/${c.id}`, { status: 'snoozed', snoozedUntil: soon })).json().snoozedUntil).toBe(soon);
    const woke = await eventually(
      async () => {
        const now = (await api.get(`/conversations/${c.id}`)).json();
        return now.status === 'open' ? now : null;
      },
      15_000,
      200,
    );
    expect(woke.snoozedUntil).toBeNull();
    const last = (await api.get(`/conversations/${c.id}/events`)).json().items.at(-1);
    expect(last).toMatchObject({ type: 'conversation.status_changed', actor: { type: 'system', id: null }, data: { from: 'snoozed', to: 'open', reason: 'snooze_ended' } });
  });
});

describe('Idempotency-Key', () => {
  it('replays the first answer for the same key and body, and refuses another body with the same key', async () => {
    const body = newConversation({ customer: { email: 'idem@example.test' } });
    const first = await api.post('/conversations', body, { 'idempotency-key': 'create-42' });
    const again = await api.post('/conversations', body, { 'idempotency-key': 'create-42' });
    expect(first.statusCode).toBe(201);
    expect(again.statusCode).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toEqual(first.json());
    const count = (await api.get(`/conversations?customer=${first.json().customer.id}`)).json().items.length;
    expect(count).toBe(1);
    const other = await api.post('/conversations', { ...body, subject: 'different' }, { 'idempotency-key': 'create-42' });
    expect(other.statusCode).toBe(409);
    expect(other.json().code).toBe('idempotency.key_reused');
    expect((await api.post('/conversations', body, { 'idempotency-key': 'bad key with spaces' })).statusCode).toBe(422);
  });

  it('lets concurrent duplicates create one conversation', async () => {
    const body = newConversation({ customer: { email: 'race@example.test' } });
    const results = await Promise.all(Array.from({ length: 8 }, () => api.post('/conversations', body, { 'idempotency-key': 'race-1' })));
    const created = results.filter((r) => r.statusCode === 201);
    expect(created.length).toBeGreaterThanOrEqual(1);
    for (const r of results) expect([201, 409]).toContain(r.statusCode);
    expect(new Set(created.map((r) => r.json().id)).size).toBe(1);
    const customer = created[0].json().customer.id;
    expect((await api.get(`/conversations?customer=${customer}`)).json().items).toHaveLength(1);
  });

  it('keys are per caller: another token with the same key creates its own', async () => {
    const body = newConversation({ customer: { email: 'per-caller@example.test' } });
    const mine = await api.post('/conversations', body, { 'idempotency-key': 'shared-key' });
    const other = await client(rapport, await tokenFor(rapport, ws, 'agent'), ws.workspaceId).post('/conversations', body, { 'idempotency-key': 'shared-key' });
    expect(other.statusCode).toBe(201);
    expect(other.json().id).not.toBe(mine.json().id);
  });
});

describe('roles', () => {
  it('agents work conversations but cannot change settings or people; client viewers only read', async () => {
    const agent = client(rapport, await tokenFor(rapport, ws, 'agent'), ws.workspaceId);
    const viewer = client(rapport, await tokenFor(rapport, ws, 'client_viewer'), ws.workspaceId);
    const c = (await agent.post('/conversations', newConversation())).json();
    expect((await agent.post(`/conversations/${c.id}/messages`, { type: 'reply', body: 'hi' })).statusCode).toBe(201);
    for (const [path, body] of [
      ['/teams', { name: 'x' }],
      ['/inboxes', { name: 'x', channel: 'api' }],
      ['/tokens', { name: 'x' }],
      ['/users', { email: 'n@example.test', name: 'n', role: 'agent' }],
    ] as const) {
      const res = await agent.post(path, body);
      expect(res.statusCode, path).toBe(403);
      expect(res.json().code).toBe('auth.forbidden');
    }
    expect((await viewer.get('/conversations')).statusCode).toBe(200);
    expect((await viewer.get(`/conversations/${c.id}/messages`)).statusCode).toBe(200);
    expect((await viewer.post('/conversations', newConversation())).statusCode).toBe(403);
    expect((await viewer.patch(`/conversations/${c.id}`, { status: 'resolved' })).statusCode).toBe(403);
    expect((await viewer.post(`/conversations/${c.id}/messages`, { type: 'note', body: 'x' })).statusCode).toBe(403);
    expect((await viewer.get('/tokens')).statusCode).toBe(403);
  });
});
