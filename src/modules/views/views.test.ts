import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withWorkspace } from '../../db/tenancy.js';
import { addTestMember, client, createTestWorkspace, signIn, type TestServer, type TestWorkspace, startWithWorkspace } from '../../../test/helpers.js';
import { countsQuery, tagCountsQuery, viewStatusSets } from '../conversations/conversations.counts.repository.js';
import { listSourceSql } from '../conversations/conversations.repository.js';
import { VIEW_STATUS_FILTERS, type ViewStatusFilter } from './views.schemas.js';
import { conversationCounts, listTags } from './views.service.js';

type CountsBody = { mine: number; unassigned: number; byTeam: Record<string, number>; byPriority: Record<string, number>; byTag: Record<string, number> };

let rapport: TestServer;
let ws: TestWorkspace;
let api: ReturnType<typeof client>;

beforeAll(async () => ({ rapport, ws, api } = await startWithWorkspace()));
afterAll(async () => rapport?.stop());

const open = async () => (await api.post('/conversations', { customer: { email: `c${Math.random()}@example.test` }, message: { body: 'x' } })).json();

describe('inbox counts', () => {
  it('agree with the list for every view and every status filter (Mine, Unassigned, team, priority, tag x Open, Pending, Snoozed, Resolved, All active)', async () => {
    const own = await createTestWorkspace(rapport);
    const o = client(rapport, own.token, own.workspaceId);
    const me = await addTestMember(rapport, own, 'agent', 'Me');
    const other = await addTestMember(rapport, own, 'agent', 'Other');
    const team = (await o.post('/teams', { name: 'Billing' })).json();
    const later = new Date(Date.now() + 86_400_000).toISOString();
    const statuses = [{ status: 'open' }, { status: 'pending' }, { status: 'snoozed', snoozedUntil: later }, { status: 'resolved' }, { status: 'closed' }];
    // 30 conversations: every status crossed with assignee (me, other, nobody), team, priority and tags.
    for (let i = 0; i < 30; i++) {
      const c = (await o.post('/conversations', { customer: { email: `m${i}@example.test` }, message: { body: 'x' }, tags: i % 3 === 0 ? ['vip'] : i % 3 === 1 ? ['vip', 'refund'] : [] })).json();
      const patch = { ...statuses[i % 5], assigneeId: [me.id, other.id, null][i % 3], teamId: i % 2 ? team.id : null, priority: ['urgent', 'normal', 'low'][i % 3 === 0 ? 0 : (i >> 1) % 3] };
      expect((await o.patch(`/conversations/${c.id}`, patch)).statusCode).toBe(200);
    }
    const session = await signIn(rapport, me.email, me.password);
    const get = async (path: string) => {
      const res = await rapport.app.inject({ method: 'GET', url: `/api/v1/workspaces/${own.workspaceId}${path}`, headers: { cookie: session.cookie } });
      expect(res.statusCode, res.body).toBe(200);
      return res.json();
    };
    const views: Array<[string, string, (c: CountsBody) => number]> = [
      ['mine', 'assignee=me', (c) => c.mine],
      ['unassigned', 'assignee=none', (c) => c.unassigned],
      ['team', `team=${team.id}`, (c) => c.byTeam[team.id]],
      ...['urgent', 'normal', 'low'].map((p) => [`priority ${p}`, `priority=${p}`, (c: CountsBody) => c.byPriority[p]] as [string, string, (c: CountsBody) => number]),
      ['tag vip', 'tag=vip', (c) => c.byTag.vip ?? 0],
      ['tag refund', 'tag=refund', (c) => c.byTag.refund ?? 0],
    ];
    const seen: string[] = [];
    for (const filter of [...(Object.keys(VIEW_STATUS_FILTERS) as ViewStatusFilter[]), null]) {
      const counts = await get(`/conversations/counts${filter ? `?status=${filter}` : ''}`);
      expect(counts.status).toBe(filter);
      for (const [name, query, count] of views) {
        // Without a filter each view has its default: Mine, Unassigned and teams open, priority and tags open and pending.
        const set = filter ? VIEW_STATUS_FILTERS[filter] : name.startsWith('priority') || name.startsWith('tag') ? ['open', 'pending'] : ['open'];
        const list = await get(`/conversations?${query}&limit=100&${set.map((s) => `status=${s}`).join('&')}`);
        expect(count(counts), `${name} x ${filter ?? 'default'}`).toBe(list.items.length);
        seen.push(`${name} x ${filter ?? 'default'}: ${list.items.length}`);
      }
    }
    // The seed puts something in each view for every status (the comparison is never 0 = 0 throughout).
    expect(seen.filter((s) => !s.endsWith(': 0')).length).toBeGreaterThan(seen.length / 2);
    // Mine x Pending, as a person checks it: the pending conversations assigned to me.
    expect((await get('/conversations/counts?status=pending')).mine).toBe(2);
  });

  it("counts the caller's views: mine, unassigned, each status and each team", async () => {
    const me = await addTestMember(rapport, ws, 'agent', 'Me');
    const someone = await addTestMember(rapport, ws, 'agent', 'Other');
    const team = (await api.post('/teams', { name: 'Billing' })).json();
    const [a, b, c, d, e] = [await open(), await open(), await open(), await open(), await open()];
    await api.patch(`/conversations/${a.id}`, { assigneeId: me.id, teamId: team.id });
    await api.patch(`/conversations/${b.id}`, { assigneeId: someone.id });
    await api.patch(`/conversations/${c.id}`, { status: 'pending', assigneeId: me.id });
    await api.patch(`/conversations/${d.id}`, { status: 'snoozed', snoozedUntil: new Date(Date.now() + 3600_000).toISOString() });
    await api.patch(`/conversations/${e.id}`, { status: 'resolved', teamId: team.id });
    const session = await signIn(rapport, me.email, me.password);
    const res = await rapport.app.inject({ method: 'GET', url: `/api/v1/workspaces/${ws.workspaceId}/conversations/counts`, headers: { cookie: session.cookie } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      status: null,
      mine: 1,
      unassigned: 0,
      open: 2,
      pending: 1,
      snoozed: 1,
      resolved: 1,
      closed: 0,
      byTeam: { [team.id]: 1 },
      byPriority: { urgent: 0, high: 0, normal: 3, low: 0 },
      byTag: {},
      cap: 10000,
      capped: false,
      cappedKeys: [],
    });
    // A token has no "mine".
    expect((await api.get('/conversations/counts')).json()).toMatchObject({ mine: 0, open: 2 });
  });

  it('counts the priority and tag views (open and pending), and lists the tags in use from the server', async () => {
    const own = await createTestWorkspace(rapport);
    const o = client(rapport, own.token, own.workspaceId);
    const make = async (patch: Record<string, unknown>) => {
      const c = (await o.post('/conversations', { customer: { email: `p${Math.random()}@example.test` }, message: { body: 'x' } })).json();
      expect((await o.patch(`/conversations/${c.id}`, patch)).statusCode).toBe(200);
    };
    await make({ priority: 'urgent', tags: ['vip', 'refund'] });
    await make({ priority: 'urgent', status: 'pending', tags: ['vip'] });
    await make({ priority: 'urgent', status: 'resolved', tags: ['vip', 'archived-only'] });
    await make({ priority: 'low' });
    // Another workspace's tags and conversations never count here.
    const other = await createTestWorkspace(rapport);
    const x = client(rapport, other.token, other.workspaceId);
    const theirs = (await x.post('/conversations', { customer: { email: 'them@example.test' }, tags: ['vip', 'secret-project'], message: { body: 'x' } })).json();
    expect(theirs.tags).toEqual(['secret-project', 'vip']);

    const counts = (await o.get('/conversations/counts')).json();
    expect(counts.byPriority).toEqual({ urgent: 2, high: 0, normal: 0, low: 1 });
    expect(counts.byTag).toEqual({ vip: 2, refund: 1, 'archived-only': 0 });
    const tags = await o.get('/tags');
    expect(tags.statusCode).toBe(200);
    expect(tags.json()).toEqual({
      items: [
        { tag: 'vip', count: 2 },
        { tag: 'refund', count: 1 },
        { tag: 'archived-only', count: 0 },
      ],
      cap: 10000,
      capped: false,
    });
    expect((await x.get('/tags')).json().items).toEqual([
      { tag: 'secret-project', count: 1 },
      { tag: 'vip', count: 1 },
    ]);
    // A token of one workspace cannot read another's tags (404, like a missing workspace).
    expect((await client(rapport, own.token, other.workspaceId).get('/tags')).statusCode).toBe(404);
  });

  it('says when the tag counts are lower bounds (more open conversations than it reads)', async () => {
    const own = await createTestWorkspace(rapport);
    const o = client(rapport, own.token, own.workspaceId);
    for (let i = 0; i < 4; i++) await o.post('/conversations', { customer: { email: `t${i}@example.test` }, tags: ['bulk'], message: { body: 'x' } });
    const deps = { pool: rapport.pool, clock: rapport.server.clock, workspaceId: own.workspaceId, actor: { type: 'system' as const, id: null } };
    expect(await listTags(deps, 3)).toEqual({ items: [{ tag: 'bulk', count: 3 }], cap: 3, capped: true });
    expect(await listTags(deps, 4)).toEqual({ items: [{ tag: 'bulk', count: 4 }], cap: 4, capped: false });
    expect((await conversationCounts({ ...deps, userId: null }, 3)).cappedKeys).toContain('byTag');
  });

  it('stops counting at the cap and says which counts reached it', async () => {
    const other = await createTestWorkspace(rapport);
    const otherApi = client(rapport, other.token, other.workspaceId);
    for (let i = 0; i < 4; i++) await otherApi.post('/conversations', { customer: { email: `k${i}@example.test` }, message: { body: 'x' } });
    const deps = { pool: rapport.pool, clock: rapport.server.clock, workspaceId: other.workspaceId, actor: { type: 'system' as const, id: null }, userId: null };
    const counts = await conversationCounts(deps, 3);
    expect(counts).toMatchObject({ open: 3, unassigned: 3, pending: 0, capped: true, cappedKeys: ['unassigned', 'open', 'byPriority.normal', 'byTag'] });
    expect((await conversationCounts(deps, 4)).capped).toBe(false);
  });

  it('reads through the inbox indexes on a large workspace (no scan of the conversations table)', async () => {
    const big = await createTestWorkspace(rapport);
    const agentId = (await addTestMember(rapport, big, 'agent', 'Big')).id;
    const team = (await client(rapport, big.token, big.workspaceId).post('/teams', { name: 'Big team' })).json();
    await withWorkspace(rapport.pool, big.workspaceId, async (tx) => {
      const { rows } = await tx.query<{ id: string }>('insert into customers (workspace_id, name) values ($1, $2) returning id', [big.workspaceId, 'Many']);
      // 30,000 conversations spread over statuses, assignees and the team.
      await tx.query(
        `insert into conversations (workspace_id, number, inbox_id, customer_id, status, priority, snoozed_until, assignee_id, team_id, created_at, updated_at, last_activity_at)
         select $1, 100000 + i, $2, $3, s, (array['low', 'normal', 'high', 'urgent'])[1 + i % 4], case when s = 'snoozed' then now() + interval '1 day' end,
           case when i % 3 = 0 then $4::uuid end, case when i % 5 = 0 then $5::uuid end, now(), now(), now() - i * interval '1 second'
         from generate_series(1, 30000) i, lateral (select (array['open', 'pending', 'snoozed', 'resolved', 'closed'])[1 + i % 5] as s) st`,
        [big.workspaceId, big.inboxId, rows[0].id, agentId, team.id],
      );
    });
    await rapport.pool.query('analyze conversations');
    const q = countsQuery(big.workspaceId, agentId, 10_000, [team.id]);
    const plan = await withWorkspace(rapport.pool, big.workspaceId, async (tx) =>
      (await tx.query<{ 'QUERY PLAN': string }>(`explain ${q.text}`, q.values)).rows.map((r) => r['QUERY PLAN']).join('\n'),
    );
    // Under row-level security the heap is visited (no index-only scans), but never the whole table.
    expect(plan).not.toMatch(/Seq Scan on conversations/);
    // Which of the inbox indexes the planner takes for a count moves as indexes are added (0280, 0300
    // offer status-led ones too); what matters is that every count walks one of them.
    const initPlans = (plan.match(/InitPlan/g) ?? []).length;
    const indexWalks = (plan.match(/(?:Index Scan(?: Backward)? using|Index Only Scan using|Bitmap Index Scan on) conversations_\w+_idx/g) ?? []).length;
    expect(initPlans).toBeGreaterThan(3);
    expect(indexWalks).toBeGreaterThanOrEqual(initPlans);
    // Every status filter's counts, and the lists the filters add (Mine, Unassigned, a team, a priority per status), walk indexes too.
    for (const filter of Object.keys(VIEW_STATUS_FILTERS) as ViewStatusFilter[]) {
      const statuses = VIEW_STATUS_FILTERS[filter];
      const f = countsQuery(big.workspaceId, agentId, 10_000, [team.id], viewStatusSets(statuses));
      const tf = tagCountsQuery(big.workspaceId, 10_001, statuses);
      for (const [label, text, values] of [
        [`counts ${filter}`, f.text, f.values],
        [`tag counts ${filter}`, tf.text, tf.values],
        ...([{ assignee: { kind: 'user', id: agentId } }, { assignee: { kind: 'none' } }, { team: { kind: 'team', id: team.id } }, { priority: 'urgent' }] as const).map((extra) => {
          const params: unknown[] = [big.workspaceId];
          const source = listSourceSql({ statuses: [...statuses], ...extra } as never, 'last_activity', undefined, params, '50');
          return [`list ${filter} ${JSON.stringify(extra)}`, `select c.id from ${source}`, params] as const;
        }),
      ] as Array<readonly [string, string, unknown[]]>) {
        const p = await withWorkspace(rapport.pool, big.workspaceId, async (tx) => (await tx.query<{ 'QUERY PLAN': string }>(`explain ${text}`, values)).rows.map((r) => r['QUERY PLAN']).join('\n'));
        expect(p, label).not.toMatch(/Seq Scan on conversations|Sort Method: external/);
        expect(p, label).toMatch(/conversations_\w+_idx/);
      }
    }
    const t = tagCountsQuery(big.workspaceId, 10_001);
    const tagPlan = await withWorkspace(rapport.pool, big.workspaceId, async (tx) =>
      (await tx.query<{ 'QUERY PLAN': string }>(`explain ${t.text}`, t.values)).rows.map((r) => r['QUERY PLAN']).join('\n'),
    );
    expect(tagPlan).not.toMatch(/Seq Scan on conversations/);
    expect(tagPlan).toMatch(/conversations_\w+_idx/);

    const t0 = performance.now();
    const counts = await conversationCounts({ pool: rapport.pool, clock: rapport.server.clock, workspaceId: big.workspaceId, actor: { type: 'system', id: null }, userId: agentId });
    const ms = performance.now() - t0;
    expect(counts).toMatchObject({ open: 6000, pending: 6000, snoozed: 6000, resolved: 6000, closed: 6000, mine: 2000, unassigned: 4000 });
    expect(counts.byTeam[team.id]).toBe(6000);
    expect(counts.byPriority).toEqual({ urgent: 3000, high: 3000, normal: 3000, low: 3000 });
    // 12,000 open or pending conversations: the tag counts read the first 10,000 and say so.
    expect(counts.cappedKeys).toEqual(['byTag']);
    expect(ms).toBeLessThan(2000);
  });
});
