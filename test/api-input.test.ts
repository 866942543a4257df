import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminClient } from './db.js';
import { client, createTestWorkspace, eventually, startTestServer, type TestServer, type TestWorkspace, startWithWorkspace } from './helpers.js';

/** Bad input gets a clear, coded problem+json answer, and never a stack trace (SECURITY A1, L6). */
let rapport: TestServer;
let ws: TestWorkspace;
let api: ReturnType<typeof client>;

beforeAll(async () => {
  ({ rapport, ws, api } = await startWithWorkspace());
  await api.post('/conversations', { customer: { email: 'c@example.test' }, subject: 'real', message: { body: 'real body' } });
});
afterAll(async () => rapport?.stop());

function expectProblem(res: { statusCode: number; headers: Record<string, unknown>; body: string }, status: number, code: string) {
  expect(res.statusCode, res.body).toBe(status);
  expect(String(res.headers['content-type'])).toMatch(/^application\/problem\+json/);
  const body = JSON.parse(res.body);
  expect(body).toMatchObject({ status, code, type: `/problems/${code}`, title: expect.any(String) });
  expect(res.body).not.toMatch(/at .*\.ts:\d+|node_modules|stack/);
  return body;
}

describe('bodies', () => {
  it('rejects wrong types without coercing them', async () => {
    const body = expectProblem(await api.post('/conversations', { customer: { email: 'x@example.test' }, message: { body: 42 } }), 422, 'validation.failed');
    expect(body.errors).toEqual([{ path: 'body.message.body', message: expect.any(String) }]);
    expectProblem(await api.post('/conversations', { customer: { email: 'x@example.test' }, message: { body: 'x' }, priority: 'extreme' }), 422, 'validation.failed');
    expectProblem(await api.patch('/conversations/00000000-0000-4000-8000-000000000000', { tags: 'vip' }), 422, 'validation.failed');
  });

  it('rejects unknown properties by name, including attempts to set ownership fields (SECURITY A2)', async () => {
    const body = expectProblem(await api.post('/customers', { email: 'u@example.test', workspaceId: ws.workspaceId }), 422, 'validation.failed');
    expect(body.errors[0].path).toBe('body.workspaceId');
    const c = (await api.get('/conversations')).json().items[0];
    for (const field of ['workspace_id', 'id', 'number', 'customerId', 'role']) {
      expectProblem(await api.patch(`/conversations/${c.id}`, { [field]: 'x' }), 422, 'validation.failed');
    }
  });

  it('limits string lengths and body size', async () => {
    expectProblem(await api.post('/conversations', { customer: { email: 'x@example.test' }, subject: 's'.repeat(501), message: { body: 'x' } }), 422, 'validation.failed');
    expectProblem(await api.post('/conversations', { customer: { email: 'x@example.test' }, message: { body: 'b'.repeat(65537) } }), 422, 'validation.failed');
    expectProblem(await api.post('/conversations', { customer: { email: 'x@example.test' }, message: { body: 'b'.repeat(2_000_000) } }), 413, 'request.too_large');
  });

  it('answers malformed JSON and wrong content types clearly', async () => {
    const bad = await rapport.app.inject({
      method: 'POST',
      url: `/api/v1/workspaces/${ws.workspaceId}/customers`,
      headers: { authorization: `Bearer ${ws.token}`, 'content-type': 'application/json' },
      payload: '{"email": ',
    });
    expectProblem(bad, 400, 'request.invalid_body');
    const xml = await rapport.app.inject({
      method: 'POST',
      url: `/api/v1/workspaces/${ws.workspaceId}/customers`,
      headers: { authorization: `Bearer ${ws.token}`, 'content-type': 'application/xml' },
      payload: '<x/>',
    });
    expectProblem(xml, 415, 'request.unsupported_media_type');
  });

  it('requires an identity and a valid phone for customers', async () => {
    expectProblem(await api.post('/customers', { name: 'No identity' }), 422, 'customers.identity_required');
    expectProblem(await api.post('/customers', { phone: '++--' }), 422, 'customers.invalid_phone');
    expectProblem(await api.post('/customers', { email: 'not-an-email' }), 422, 'validation.failed');
  });
});

describe('paths and query strings', () => {
  it('checks ids as UUIDs', async () => {
    const body = expectProblem(await api.get('/conversations/1%20OR%201=1'), 422, 'validation.failed');
    expect(body.errors[0].path).toBe('params.id');
    expectProblem(await api.get('/customers/../../etc/passwd'), 404, 'route.not_found');
  });

  it('keeps filters on their allowlist and treats SQL-ish text as data (SECURITY A1)', async () => {
    expectProblem(await api.get('/conversations?status=open%20OR%201=1'), 422, 'validation.failed');
    expectProblem(await api.get('/conversations?assignee=1)%20OR%20pg_sleep(5)--'), 422, 'validation.failed');
    expectProblem(await api.get('/conversations?sort=id;drop%20table%20conversations'), 422, 'validation.failed');
    expectProblem(await api.get('/conversations?query_operator=OR%201=1%20--'), 422, 'validation.failed');
    expectProblem(await api.get('/conversations?limit=1000'), 422, 'validation.failed');
    expectProblem(await api.get('/conversations?cursor=not-a-cursor'), 422, 'validation.failed');
    expectProblem(await api.get('/conversations?assignee=abc'), 422, 'validation.failed');
    expectProblem(await api.get('/conversations?team=abc'), 422, 'validation.failed');
  });

  it('refuses forged cursors that decode but are not ones the API issued (422, never a 500 from SQL)', async () => {
    const conversation = (await api.get('/conversations')).json().items[0];
    const forge = (parts: unknown) => Buffer.from(JSON.stringify(parts)).toString('base64url');
    const forged = [
      forge(['x', 'y']),
      forge(['2026-13-40 25:00:00+00', '00000000-0000-0000-0000-000000000000']),
      forge(['2026-02-30 10:00:00+00', '00000000-0000-0000-0000-000000000000']),
      forge(['2026-01-01 10:00:00+00', "1' or 1=1"]),
      forge([1, 2]),
      forge(['2026-01-01 10:00:00+00']),
      forge({ a: 1 }),
    ];
    for (const cursor of forged) {
      for (const path of ['/conversations', '/conversations?sort=waiting_longest', '/customers', `/conversations/${conversation.id}/messages`]) {
        const sep = path.includes('?') ? '&' : '?';
        const body = expectProblem(await api.get(`${path}${sep}cursor=${cursor}`), 422, 'validation.failed');
        expect(body.errors[0].path, `${path} ${cursor}`).toBe('querystring.cursor');
      }
      expectProblem(await api.get(`/conversations/${conversation.id}/events?cursor=${cursor}`), 422, 'validation.failed');
    }
    expectProblem(await api.get(`/conversations/${conversation.id}/events?cursor=${forge(['12abc'])}`), 422, 'validation.failed');
    // A cursor the API issued still works, on every list.
    const page = (await api.get('/conversations?limit=1')).json();
    if (page.nextCursor) expect((await api.get(`/conversations?limit=1&cursor=${page.nextCursor}`)).statusCode).toBe(200);
    const waiting = (await api.get('/conversations?limit=1&sort=waiting_longest')).json();
    if (waiting.nextCursor) expect((await api.get(`/conversations?limit=1&sort=waiting_longest&cursor=${waiting.nextCursor}`)).statusCode).toBe(200);
    for (const q of ["' OR 1=1 --", '1) OR pg_sleep(5)--', '%', '_', '\\', "'; drop table conversations; --", '#abc', '#99999999999999999999']) {
      const started = Date.now();
      const res = await api.get(`/conversations?q=${encodeURIComponent(q)}`);
      expect(res.statusCode, q).toBe(q.length > 200 ? 422 : 200);
      expect(res.json().items, q).toEqual([]);
      expect(Date.now() - started, q).toBeLessThan(2000);
    }
    expectProblem(await api.get(`/conversations?q=${'q'.repeat(201)}`), 422, 'validation.failed');
    // The table is still there and searchable.
    expect((await api.get('/conversations?q=real')).json().items).toHaveLength(1);
    const customers = await api.get(`/customers?q=${encodeURIComponent("%' OR '1'='1")}`);
    expect(customers.statusCode).toBe(200);
    expect(customers.json().items).toEqual([]);
  });

  it('answers unknown routes and methods with problem+json', async () => {
    expectProblem(await api.get('/nothing-here'), 404, 'route.not_found');
    expectProblem(await rapport.app.inject({ method: 'DELETE', url: `/api/v1/workspaces/${ws.workspaceId}/conversations` }), 404, 'route.not_found');
  });
});

describe('failures inside', () => {
  it('answer a generic 500 with no detail, keep the process up, and 503 when the database is gone', async () => {
    // A route that throws an unknown error, added to this app only.
    const probe = await startTestServer({
      modules: [
        {
          name: 'probe',
          workspaceRoutes: (app) => {
            app.get('/explode', async () => {
              throw new Error('secret internals at /srv/x.ts:12');
            });
          },
        },
      ],
    });
    try {
      const w = await createTestWorkspace(probe);
      const p = client(probe, w.token, w.workspaceId);
      const res = await p.get('/explode');
      const body = expectProblem(res, 500, 'internal');
      expect(JSON.stringify(body)).not.toContain('secret');
      expect((await p.get('/conversations')).statusCode).toBe(200);
      // The database stops accepting the application: every pooled connection is cut.
      const dbName = new URL(probe.config.databaseUrl!).pathname.slice(1);
      const admin = adminClient();
      await admin.connect();
      await admin.query(`alter database ${dbName} connection limit 0`);
      await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [dbName]);
      const down = await p.get('/conversations');
      expectProblem(down, 503, 'service.unavailable');
      expect(down.headers['retry-after']).toBe('5');
      expect((await probe.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(503);
      // It comes back on its own once the database does.
      await admin.query(`alter database ${dbName} connection limit -1`);
      await admin.end();
      await eventually(async () => (await p.get('/conversations')).statusCode === 200);
      expect((await probe.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    } finally {
      await probe.stop().catch(() => {});
    }
  });
});
