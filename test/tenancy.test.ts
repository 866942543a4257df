import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withWorkspace } from '../src/db/tenancy.js';
import { addTestMember, client, createTestWorkspace, startTestServer, type TestServer, type TestWorkspace } from './helpers.js';

/**
 * Tenancy (SECURITY T1, T2, T4): workspaces A and B share a customer email. Nothing of B is visible
 * from A, by id, by filter or by search, and the database itself refuses unscoped reads.
 */
let rapport: TestServer;
let a: TestWorkspace;
let b: TestWorkspace;
let apiA: ReturnType<typeof client>;
let apiB: ReturnType<typeof client>;
let bConversation: { id: string; customer: { id: string } };
let bTeam: string;
let bAgent: string;

beforeAll(async () => {
  // The pool canary below sends 1,000 requests at once on two tokens: the per-principal limit of
  // requests in progress (M1, test/edge-limits.test.ts) would refuse most of them, so it is lifted here.
  rapport = await startTestServer({ config: { httpMaxRequestsPerCredential: 100_000 } });
  a = await createTestWorkspace(rapport);
  b = await createTestWorkspace(rapport);
  apiA = client(rapport, a.token, a.workspaceId);
  apiB = client(rapport, b.token, b.workspaceId);
  await apiA.post('/conversations', { customer: { email: 'shared@example.test', name: 'Shared in A' }, subject: 'apples', message: { body: 'from A' } });
  bAgent = (await addTestMember(rapport, b, 'agent')).id;
  bTeam = (await apiB.post('/teams', { name: 'B team' })).json().id;
  bConversation = (await apiB.post('/conversations', { customer: { email: 'shared@example.test', name: 'Shared in B' }, subject: 'bananas secret', message: { body: 'zebra from B' } })).json();
  await apiB.patch(`/conversations/${bConversation.id}`, { assigneeId: bAgent, teamId: bTeam, tags: ['b-only'] });
});
afterAll(async () => rapport?.stop());

describe('another workspace’s ids', () => {
  it('answer 404 byte-for-byte like ids that do not exist, on every route', async () => {
    const missing = '11111111-1111-4111-8111-111111111111';
    const bToken = (await apiB.get('/tokens')).json().items[0].id as string;
    const routes: [string, string, (id: string) => Promise<{ statusCode: number; body: string }>][] = [
      ['GET conversation', bConversation.id, (id) => apiA.get(`/conversations/${id}`)],
      ['PATCH conversation', bConversation.id, (id) => apiA.patch(`/conversations/${id}`, { status: 'resolved' })],
      ['POST message', bConversation.id, (id) => apiA.post(`/conversations/${id}/messages`, { type: 'note', body: 'x' })],
      ['GET messages', bConversation.id, (id) => apiA.get(`/conversations/${id}/messages`)],
      ['GET events', bConversation.id, (id) => apiA.get(`/conversations/${id}/events`)],
      ['GET customer', bConversation.customer.id, (id) => apiA.get(`/customers/${id}`)],
      ['PATCH customer', bConversation.customer.id, (id) => apiA.patch(`/customers/${id}`, { name: 'pwned' })],
      ['GET inbox', b.inboxId, (id) => apiA.get(`/inboxes/${id}`)],
      ['DELETE token', bToken, (id) => apiA.delete(`/tokens/${id}`)],
    ];
    for (const [name, foreignId, call] of routes) {
      const foreign = await call(foreignId);
      const absent = await call(missing);
      expect(foreign.statusCode, name).toBe(404);
      expect(foreign.body, name).toBe(absent.body);
    }
    // B is unchanged.
    expect((await apiB.get(`/conversations/${bConversation.id}`)).json().status).toBe('open');
    expect((await apiB.get(`/customers/${bConversation.customer.id}`)).json().name).toBe('Shared in B');
    expect((await apiB.get('/tokens')).json().items.map((t: { id: string }) => t.id)).toContain(bToken);
    expect((await apiB.get('/conversations')).statusCode).toBe(200);
  });

  it('cannot be used as references: an inbox, an assignee or a team of B', async () => {
    const bInbox = await apiA.post('/conversations', { inboxId: b.inboxId, customer: { email: 'x@example.test' }, message: { body: 'x' } });
    expect(bInbox.statusCode).toBe(404);
    const mine = (await apiA.post('/conversations', { customer: { email: 'y@example.test' }, message: { body: 'y' } })).json();
    expect((await apiA.patch(`/conversations/${mine.id}`, { assigneeId: bAgent })).statusCode).toBe(422);
    expect((await apiA.patch(`/conversations/${mine.id}`, { teamId: bTeam })).statusCode).toBe(422);
    expect((await apiA.post('/teams', { name: 'with B', memberIds: [bAgent] })).statusCode).toBe(422);
  });

  it('a workspace id in the path that is not yours is a 404 like a missing one', async () => {
    const foreign = await client(rapport, a.token, b.workspaceId).get('/conversations');
    const absent = await client(rapport, a.token, '22222222-2222-4222-8222-222222222222').get('/conversations');
    expect(foreign.statusCode).toBe(404);
    expect(foreign.body).toBe(absent.body);
  });
});

describe('filters and search (SECURITY T2)', () => {
  it('return nothing of B, whichever filter names B’s things', async () => {
    const queries = [
      `assignee=${bAgent}`,
      `team=${bTeam}`,
      `inbox=${b.inboxId}`,
      `customer=${bConversation.customer.id}`,
      'tag=b-only',
      'q=bananas',
      'q=zebra',
      'q=shared%40example.test',
      `q=%23${1001}`,
    ];
    for (const q of queries) {
      const res = await apiA.get(`/conversations?${q}`);
      expect(res.statusCode, q).toBe(200);
      for (const item of res.json().items) {
        expect(item.id, q).not.toBe(bConversation.id);
        expect(item.customer.name, q).not.toBe('Shared in B');
      }
    }
    const search = (await apiA.get('/conversations?q=shared%40example.test')).json().items;
    expect(search.map((c: { customer: { name: string } }) => c.customer.name)).toEqual(['Shared in A']);
    const customers = (await apiA.get('/customers?q=shared%40example.test')).json().items;
    expect(customers.map((c: { name: string }) => c.name)).toEqual(['Shared in A']);
  });
});

describe('row-level security (SECURITY T4)', () => {
  it('returns no rows to a deliberately unscoped query from the application role', async () => {
    const conn = new pg.Client({ connectionString: rapport.config.databaseUrl });
    await conn.connect();
    try {
      const role = (await conn.query('select rolsuper, rolbypassrls from pg_roles where rolname = current_user')).rows[0];
      expect(role).toEqual({ rolsuper: false, rolbypassrls: false });
      for (const table of ['conversations', 'messages', 'customers', 'customer_identities', 'events', 'memberships', 'api_tokens', 'inboxes', 'teams']) {
        expect((await conn.query(`select count(*)::int as n from ${table}`)).rows[0].n, table).toBe(0);
      }
      // Scoped to A, an unscoped query still sees only A.
      await conn.query('begin');
      await conn.query("select set_config('app.workspace_id', $1, true)", [a.workspaceId]);
      const ws = (await conn.query('select distinct workspace_id from conversations')).rows.map((r) => r.workspace_id);
      expect(ws).toEqual([a.workspaceId]);
      // And cannot write into B.
      await expect(conn.query("insert into teams (workspace_id, name) values ($1, 'sneaky')", [b.workspaceId])).rejects.toThrow(/row-level security/);
      await conn.query('rollback');
    } finally {
      await conn.end();
    }
  });

  it('never leaks the workspace setting between requests sharing pooled connections', async () => {
    const seen = await Promise.all(
      Array.from({ length: 1000 }, (_, i) => {
        const [ws, api] = i % 2 === 0 ? [a, apiA] : [b, apiB];
        return api.get('/conversations?limit=100').then((res) => ({ ws: ws.workspaceId, items: res.json().items as { inboxId: string }[] }));
      }),
    );
    for (const { ws, items } of seen) {
      const expected = ws === a.workspaceId ? a.inboxId : b.inboxId;
      expect(items.length).toBeGreaterThan(0);
      for (const item of items) expect(item.inboxId).toBe(expected);
    }
    // After all that, a bare pooled query carries no workspace.
    const leftovers = await Promise.all(Array.from({ length: 30 }, () => rapport.pool.query("select current_setting('app.workspace_id', true) as ws")));
    for (const r of leftovers) expect(r.rows[0].ws ?? '').toBe('');
    expect(await withWorkspace(rapport.pool, a.workspaceId, async (tx) => (await tx.query('select count(*)::int as n from conversations where workspace_id = $1', [b.workspaceId])).rows[0].n)).toBe(0);
  }, 90_000);
});
