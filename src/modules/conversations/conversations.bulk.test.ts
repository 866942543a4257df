import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addTestMember, client, createTestWorkspace, startWithWorkspace, tokenFor, type TestServer, type TestWorkspace } from '../../../test/helpers.js';

let rapport: TestServer;
let ws: TestWorkspace;
let api: ReturnType<typeof client>;

beforeAll(async () => ({ rapport, ws, api } = await startWithWorkspace()));
afterAll(async () => rapport?.stop());

const open = async (c = api, extra: Record<string, unknown> = {}) =>
  (await c.post('/conversations', { customer: { email: `b${randomUUID()}@example.test` }, message: { body: 'x' }, ...extra })).json() as { id: string; number: number };
const bulk = (body: unknown, c = api) => c.post('/conversations/bulk', body);
const typesOf = async (id: string, c = api) => (await c.get(`/conversations/${id}/events?exclude=message.created&exclude=conversation.created`)).json().items.map((e: { type: string }) => e.type);

describe('bulk actions on conversations', () => {
  it("assigns the workspace's conversations and answers not found, per id, for another workspace's and missing ones, changing nothing of theirs", async () => {
    const agent = await addTestMember(rapport, ws, 'agent', 'Bulk agent');
    const [a, b] = [await open(), await open()];
    const other = await createTestWorkspace(rapport);
    const theirs = await open(client(rapport, other.token, other.workspaceId));
    const missing = randomUUID();
    const res = await bulk({ ids: [a.id, theirs.id, b.id, missing], action: 'assign', value: agent.id });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({
      results: [
        { id: a.id, ok: true },
        { id: theirs.id, ok: false, code: 'conversations.not_found', message: 'No such conversation' },
        { id: b.id, ok: true },
        { id: missing, ok: false, code: 'conversations.not_found', message: 'No such conversation' },
      ],
      changed: 2,
    });
    for (const c of [a, b]) {
      expect((await api.get(`/conversations/${c.id}`)).json().assigneeId).toBe(agent.id);
      // Each conversation's own timeline records its change.
      expect(await typesOf(c.id)).toEqual(['conversation.assigned']);
    }
    const x = client(rapport, other.token, other.workspaceId);
    expect((await x.get(`/conversations/${theirs.id}`)).json().assigneeId).toBeNull();
    expect(await typesOf(theirs.id, x)).toEqual([]);
  });

  it('sets status, priority, tags, snooze and close, each with its events; adding a tag to a full conversation is refused for that one only', async () => {
    const [a, b] = [await open(api, { tags: ['vip'] }), await open()];
    const full = await open(api, { tags: Array.from({ length: 20 }, (_, i) => `t${i}`) });
    const ids = [a.id, b.id];
    expect((await bulk({ ids, action: 'priority', value: 'urgent' })).json().changed).toBe(2);
    expect((await bulk({ ids, action: 'status', value: 'pending' })).json().changed).toBe(2);
    const tagged = (await bulk({ ids: [a.id, full.id, b.id], action: 'tag', value: 'Refund' })).json();
    expect(tagged.results.map((r: { ok: boolean; code?: string }) => r.code ?? r.ok)).toEqual([true, 'conversations.too_many_tags', true]);
    expect((await api.get(`/conversations/${a.id}`)).json().tags).toEqual(['refund', 'vip']);
    expect((await api.get(`/conversations/${full.id}`)).json().tags).toHaveLength(20);
    expect((await bulk({ ids, action: 'untag', value: 'vip' })).json().changed).toBe(2);
    expect((await api.get(`/conversations/${a.id}`)).json().tags).toEqual(['refund']);
    const until = new Date(Date.now() + 3600_000).toISOString();
    expect((await bulk({ ids, action: 'snooze', value: until })).json().changed).toBe(2);
    expect((await api.get(`/conversations/${b.id}`)).json()).toMatchObject({ status: 'snoozed', snoozedUntil: until });
    expect((await bulk({ ids, action: 'close' })).json().changed).toBe(2);
    expect((await api.get(`/conversations/${a.id}`)).json()).toMatchObject({ status: 'closed', priority: 'urgent' });
    expect(await typesOf(a.id)).toEqual([
      'conversation.priority_changed',
      'conversation.status_changed',
      'conversation.tags_changed',
      'conversation.tags_changed',
      'conversation.status_changed',
      'conversation.status_changed',
    ]);
    // Closing again changes nothing and records nothing, and still answers ok.
    expect((await bulk({ ids, action: 'close' })).json().changed).toBe(2);
    expect(await typesOf(a.id)).toHaveLength(6);
  });

  it('refuses a value wrong for the whole action with 422 and changes nothing', async () => {
    const a = await open();
    const viewer = await addTestMember(rapport, ws, 'client_viewer', 'Viewer');
    const refusals = [
      [{ ids: [a.id], action: 'assign', value: viewer.id }, 'conversations.assignee_not_found'],
      [{ ids: [a.id], action: 'assign', value: 'someone' }, 'validation.failed'],
      [{ ids: [a.id], action: 'snooze', value: new Date(Date.now() - 1000).toISOString() }, 'validation.failed'],
      [{ ids: [a.id], action: 'status', value: 'snoozed' }, 'validation.failed'],
      [{ ids: [a.id], action: 'priority', value: 'asap' }, 'validation.failed'],
      [{ ids: [a.id], action: 'tag', value: '#!' }, 'validation.failed'],
      [{ ids: [a.id], action: 'explode' }, 'validation.failed'],
      [{ ids: [], action: 'close' }, 'validation.failed'],
      [{ ids: Array.from({ length: 101 }, () => randomUUID()), action: 'close' }, 'validation.failed'],
    ] as const;
    for (const [body, code] of refusals) {
      const res = await bulk(body);
      expect(res.statusCode, JSON.stringify(body).slice(0, 80)).toBe(422);
      expect(res.json().code).toBe(code);
    }
    const refused = (await bulk({ ids: [a.id], action: 'snooze', value: new Date(Date.now() - 1000).toISOString() })).json();
    expect(refused.errors[0].message).toBe('Choose a time in the future to snooze until');
    expect((await api.get(`/conversations/${a.id}`)).json()).toMatchObject({ status: 'open', assigneeId: null });
    expect(await typesOf(a.id)).toEqual([]);
  });

  it('rolls the whole batch back when something fails mid-way (a database error on the last conversation, after two were changed)', async () => {
    // Conversations are changed in id order: the fault is on the last, after the other two were changed.
    const [a, c, b] = [await open(), await open(), await open()].sort((x, y) => (x.id < y.id ? -1 : 1));
    // A fault planted for this test only: updating b fails in the database.
    await rapport.pool.query(`create function bulk_test_fault() returns trigger language plpgsql as $$ begin raise exception 'planted fault'; end $$`);
    await rapport.pool.query(`create trigger bulk_test_fault before update on conversations for each row when (new.id = '${b.id}'::uuid) execute function bulk_test_fault()`);
    try {
      const res = await bulk({ ids: [b.id, a.id, c.id], action: 'priority', value: 'urgent' });
      expect(res.statusCode).toBe(500);
    } finally {
      await rapport.pool.query('drop trigger bulk_test_fault on conversations');
      await rapport.pool.query('drop function bulk_test_fault()');
    }
    for (const x of [a, b, c]) {
      expect((await api.get(`/conversations/${x.id}`)).json().priority).toBe('normal');
      expect(await typesOf(x.id)).toEqual([]);
    }
  });

  it('needs an agent: a client viewer is refused', async () => {
    const a = await open();
    const viewer = client(rapport, await tokenFor(rapport, ws, 'client_viewer'), ws.workspaceId);
    const res = await bulk({ ids: [a.id], action: 'close' }, viewer);
    expect(res.statusCode).toBe(403);
    expect((await api.get(`/conversations/${a.id}`)).json().status).toBe('open');
  });

  it('takes the maximum of 100 conversations in one request', async () => {
    const mine = await Promise.all(Array.from({ length: 5 }, () => open()));
    const ids = [...mine.map((c) => c.id), ...Array.from({ length: 95 }, () => randomUUID())];
    const res = (await bulk({ ids, action: 'priority', value: 'high' })).json();
    expect(res.changed).toBe(5);
    expect(res.results).toHaveLength(100);
  });
});
