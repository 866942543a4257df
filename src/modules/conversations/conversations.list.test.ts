import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withWorkspace } from '../../db/tenancy.js';
import { addTestMember, client, createTestWorkspace, startWithWorkspace, tokenFor, type TestServer, type TestWorkspace } from '../../../test/helpers.js';
import { listSourceSql } from './conversations.repository.js';

/**
 * The inbox list's query shapes (issue #14): one index walk per status merged by the outer order,
 * the `waiting_longest` order as coalesce(waiting_since, 'infinity'), and tag views read from
 * conversation_tags. Every filter combination and both orders must give exactly the list a plain
 * filter-and-sort of all rows gives, page after page (ties on the sort keys included).
 */
let rapport: TestServer;
let ws: TestWorkspace;
let api: ReturnType<typeof client>;

interface Row {
  id: string;
  status: string;
  assignee_id: string | null;
  team_id: string | null;
  priority: string;
  tags: string[];
  customer_id: string;
  last_activity_at: Date;
  last_public_activity_at: Date;
  waiting_since: Date | null;
}

let agents: string[];
let teams: string[];
let customers: string[];

beforeAll(async () => {
  ({ rapport, ws, api } = await startWithWorkspace());
  agents = [(await addTestMember(rapport, ws, 'agent', 'Ann')).id, (await addTestMember(rapport, ws, 'agent', 'Bob')).id];
  await withWorkspace(rapport.pool, ws.workspaceId, async (tx) => {
    teams = (await tx.query<{ id: string }>(`insert into teams (workspace_id, name, created_at) select $1, 'Team ' || i, now() from generate_series(1, 2) i returning id`, [ws.workspaceId])).rows.map(
      (r) => r.id,
    );
    customers = (
      await tx.query<{ id: string }>(`insert into customers (workspace_id, name, created_at, updated_at) select $1, 'C' || i, now(), now() from generate_series(1, 5) i returning id`, [ws.workspaceId])
    ).rows.map((r) => r.id);
    // 150 conversations over every status, assignee, team, priority and tag mix, with many equal
    // activity times and waiting times (only 12 and 7 distinct values) so the id decides ties, and
    // a third of them not waiting at all.
    await tx.query(
      `insert into conversations (workspace_id, number, inbox_id, customer_id, subject, status, snoozed_until, priority, assignee_id, team_id, tags,
         created_at, updated_at, last_activity_at, waiting_since)
       select $1, 100000 + i, $2, ($3::uuid[])[1 + i % 5], 'S ' || i, st, case when st = 'snoozed' then now() + interval '1 day' end,
         (array['low', 'normal', 'high', 'urgent'])[1 + (i / 3) % 4],
         case i % 3 when 0 then null when 1 then ($4::uuid[])[1] else ($4::uuid[])[2] end,
         case when i % 4 = 0 then null else ($5::uuid[])[1 + i % 2] end,
         case i % 6 when 0 then '{vip}'::text[] when 1 then '{vip,billing}' when 2 then '{billing}' else '{}' end,
         now(), now(), timestamptz '2026-01-01' + (i % 12) * interval '1 hour',
         case when i % 3 = 0 then null else timestamptz '2026-01-01' + (i % 7) * interval '1 minute' end
       from generate_series(1, 150) i,
       lateral (select (array['open', 'pending', 'snoozed', 'resolved', 'closed'])[1 + (i * 7 / 5) % 5] as st) s`,
      [ws.workspaceId, ws.inboxId, customers, agents, teams],
    );
  });
});
afterAll(async () => rapport?.stop());

async function allRows(): Promise<Row[]> {
  return withWorkspace(rapport.pool, ws.workspaceId, async (tx) => (await tx.query<Row>('select * from conversations where workspace_id = $1', [ws.workspaceId])).rows);
}

/** The reference: every row, filtered and sorted in JavaScript. */
function expected(rows: Row[], q: Record<string, string | string[]>, sort: 'last_activity' | 'waiting_longest' | 'last_public_activity'): string[] {
  const statuses = q.status ? [q.status].flat() : null;
  const keep = rows.filter(
    (r) =>
      (!statuses || statuses.includes(r.status)) &&
      (!q.assignee || (q.assignee === 'none' ? r.assignee_id === null : r.assignee_id === q.assignee)) &&
      (!q.team || (q.team === 'none' ? r.team_id === null : r.team_id === q.team)) &&
      (!q.priority || r.priority === q.priority) &&
      (!q.tag || r.tags.includes(q.tag as string)) &&
      (!q.customer || r.customer_id === q.customer),
  );
  const waiting = (r: Row) => (r.waiting_since ? r.waiting_since.getTime() : Number.POSITIVE_INFINITY);
  const activity = (r: Row) => (sort === 'last_public_activity' ? r.last_public_activity_at : r.last_activity_at).getTime();
  keep.sort((a, b) => (sort === 'waiting_longest' ? waiting(a) - waiting(b) || (a.id < b.id ? -1 : 1) : activity(b) - activity(a) || (a.id < b.id ? 1 : -1)));
  return keep.map((r) => r.id);
}

/** Every page of the list through the API, following the cursor. */
async function pages(q: Record<string, string | string[]>, sort: string, limit = 25, reader = api): Promise<string[]> {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) for (const x of [v].flat()) params.append(k, x);
  params.set('sort', sort);
  params.set('limit', String(limit));
  const ids: string[] = [];
  let cursor: string | null = null;
  for (let n = 0; n < 100; n++) {
    const res = await reader.get(`/conversations?${params}${cursor ? `&cursor=${cursor}` : ''}`);
    expect(res.statusCode, res.body).toBe(200);
    const page = res.json() as { items: { id: string }[]; nextCursor: string | null };
    ids.push(...page.items.map((c) => c.id));
    cursor = page.nextCursor;
    if (!cursor) return ids;
  }
  throw new Error('more than 100 pages');
}

describe('the inbox list at every filter and order', () => {
  it.each(['last_activity', 'waiting_longest'] as const)('gives by %s the same conversations in the same order as a plain filter and sort, across pages', async (sort) => {
    const rows = await allRows();
    const combos: Record<string, string | string[]>[] = [
      {},
      { status: 'open' },
      { status: ['open', 'pending'] },
      { status: ['resolved', 'closed', 'snoozed'] },
      { status: 'open', assignee: agents[0] },
      { status: 'open', assignee: 'none' },
      { status: 'open', team: teams[0] },
      { status: 'resolved', team: 'none' },
      { status: ['open', 'pending'], priority: 'urgent' },
      { status: ['open', 'pending'], tag: 'vip' },
      { status: 'pending', tag: 'billing' },
      { tag: 'vip' },
      { tag: 'vip', assignee: agents[1] },
      { tag: 'no-such-tag' },
      { status: ['open', 'pending'], tag: 'no-such-tag' },
      { customer: customers[2] },
      { assignee: agents[0] },
      { priority: 'high' },
    ];
    for (const q of combos) expect(await pages(q, sort), `${sort} ${JSON.stringify(q)}`).toEqual(expected(rows, q, sort));
  });

  it('lists a conversation under a tag as soon as it carries it, in its current status and order, and no longer once it is removed', async () => {
    const created = await api.post('/conversations', { customer: { email: 'tagged@example.test', name: 'Tagged' }, subject: 'Tagged', message: { body: 'hi' } });
    expect(created.statusCode, created.body).toBe(201);
    const c = created.json();
    const inTag = async (tag: string, status: string, sort = 'last_activity') => (await pages({ tag, status }, sort, 50)).includes(c.id);
    expect(await inTag('fresh', 'open')).toBe(false);
    const tagged = await api.patch(`/conversations/${c.id}`, { tags: ['fresh', 'other'] });
    expect(tagged.statusCode, tagged.body).toBe(200);
    expect(await inTag('fresh', 'open')).toBe(true);
    expect(await inTag('other', 'open', 'waiting_longest')).toBe(true);
    // A reply changes the sort keys (activity, waiting): the tag view's order follows.
    expect((await api.post(`/conversations/${c.id}/messages`, { type: 'reply', body: 'on it' })).statusCode).toBe(201);
    for (const sort of ['last_activity', 'waiting_longest'] as const) expect(await pages({ tag: 'fresh' }, sort)).toEqual(expected(await allRows(), { tag: 'fresh' }, sort));
    expect((await api.patch(`/conversations/${c.id}`, { status: 'pending' })).statusCode).toBe(200);
    expect(await inTag('fresh', 'open')).toBe(false);
    expect(await inTag('fresh', 'pending')).toBe(true);
    expect((await api.patch(`/conversations/${c.id}`, { tags: ['other'] })).statusCode).toBe(200);
    expect(await inTag('fresh', 'pending')).toBe(false);
    expect(await inTag('other', 'pending')).toBe(true);
    expect((await api.patch(`/conversations/${c.id}`, { tags: [] })).statusCode).toBe(200);
    expect(await inTag('other', 'pending')).toBe(false);
  });

  it('lists a conversation created with tags under each of them', async () => {
    const created = await api.post('/conversations', { customer: { email: 'born-tagged@example.test' }, subject: 'Born tagged', tags: ['refund', 'vip'], message: { body: 'hi' } });
    expect(created.statusCode, created.body).toBe(201);
    const id = created.json().id;
    for (const tag of ['refund', 'vip']) for (const sort of ['last_activity', 'waiting_longest']) expect(await pages({ tag, status: 'open' }, sort, 50), `${tag} ${sort}`).toContain(id);
  });

  it("gives a client viewer's tag views by public activity the same conversations in the same order as a plain filter and sort (conversation_tags keeps that time, 0302)", async () => {
    // Public activity apart from activity (a note moves only the latter), with ties; the triggers copy it.
    await withWorkspace(rapport.pool, ws.workspaceId, (tx) =>
      tx.query(`update conversations set last_public_activity_at = last_activity_at - (number % 4) * interval '1 hour' where workspace_id = $1`, [ws.workspaceId]),
    );
    const viewer = client(rapport, await tokenFor(rapport, ws, 'client_viewer'), ws.workspaceId);
    const rows = await allRows();
    const combos: Record<string, string | string[]>[] = [{ tag: 'vip' }, { status: ['open', 'pending'], tag: 'vip' }, { status: 'pending', tag: 'billing' }, { tag: 'no-such-tag' }];
    for (const q of combos) expect(await pages(q, 'last_activity', 7, viewer), JSON.stringify(q)).toEqual(expected(rows, q, 'last_public_activity'));
    const copies = await withWorkspace(
      rapport.pool,
      ws.workspaceId,
      async (tx) =>
        (
          await tx.query<{ n: number; stale: number }>(
            `select count(*)::int as n, count(*) filter (where t.last_public_activity_at <> c.last_public_activity_at)::int as stale
           from conversation_tags t join conversations c on c.workspace_id = t.workspace_id and c.id = t.conversation_id where t.workspace_id = $1`,
            [ws.workspaceId],
          )
        ).rows[0],
    );
    expect(copies.n).toBeGreaterThan(50);
    expect(copies.stale).toBe(0);
  });

  it("walks conversation_tags' public activity index for a client viewer's rare tag on a large workspace", async () => {
    const big = await createTestWorkspace(rapport);
    await withWorkspace(rapport.pool, big.workspaceId, async (tx) => {
      const { rows } = await tx.query<{ id: string }>('insert into customers (workspace_id, name) values ($1, $2) returning id', [big.workspaceId, 'Many']);
      // 20,000 open or pending conversations, all tagged `common`; one in a thousand also `rare`.
      await tx.query(
        `insert into conversations (workspace_id, number, inbox_id, customer_id, status, tags, created_at, updated_at, last_activity_at, last_public_activity_at)
         select $1, 100000 + i, $2, $3, (array['open', 'pending'])[1 + i % 2], case when i % 1000 = 0 then '{common,rare}'::text[] else '{common}' end,
           now(), now(), now() - i * interval '1 second', now() - i * interval '2 seconds'
         from generate_series(1, 20000) i`,
        [big.workspaceId, big.inboxId, rows[0].id],
      );
    });
    await rapport.pool.query('analyze conversations');
    await rapport.pool.query('analyze conversation_tags');
    const params: unknown[] = [big.workspaceId, 25];
    const source = listSourceSql({ statuses: ['open', 'pending'], tag: 'rare' }, 'last_public_activity', undefined, params, '$2');
    const plan = await withWorkspace(rapport.pool, big.workspaceId, async (tx) =>
      (await tx.query<{ 'QUERY PLAN': string }>(`explain select c.id from ${source}`, params)).rows.map((r) => r['QUERY PLAN']).join('\n'),
    );
    expect(plan).not.toMatch(/Seq Scan/);
    expect(plan.match(/Index (?:Only )?Scan using conversation_tags_public_activity_idx/g)).toHaveLength(2);
    const ids = await withWorkspace(rapport.pool, big.workspaceId, async (tx) => (await tx.query<{ id: string }>(`select c.id from ${source}`, params)).rows);
    expect(ids).toHaveLength(20);
  });
});
