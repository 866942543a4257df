import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withSystem } from '../../db/tenancy.js';
import { addTestMember, client, createTestWorkspace, signIn, startTestServer, type TestServer, type TestWorkspace } from '../../../test/helpers.js';

let rapport: TestServer;
let ws: TestWorkspace;

beforeAll(async () => {
  rapport = await startTestServer();
  ws = await createTestWorkspace(rapport);
});
afterAll(async () => rapport?.stop());

const login = (email: string, password: string, ip = '10.0.0.1') =>
  rapport.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email, password }, remoteAddress: ip });

describe('signing in', () => {
  it('sets an httpOnly session cookie and returns the user, workspaces with roles, and a CSRF token', async () => {
    const res = await login(ws.owner.email.toUpperCase(), ws.owner.password);
    expect(res.statusCode).toBe(200);
    const cookie = res.cookies.find((c) => c.name === 'rapport_session')!;
    expect(cookie.httpOnly).toBe(true);
    expect(cookie.sameSite).toBe('Lax');
    const body = res.json();
    expect(body.user.email).toBe(ws.owner.email);
    expect(body.workspaces).toEqual([{ id: ws.workspaceId, name: expect.any(String), slug: expect.any(String), role: 'owner' }]);
    expect(body.csrfToken).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    expect(JSON.stringify(body)).not.toMatch(/password|argon2/i);
  });

  it('answers a wrong password and an unknown email alike', async () => {
    const wrong = await login(ws.owner.email, 'not the password', '10.0.0.2');
    const unknown = await login('nobody@example.test', 'not the password', '10.0.0.2');
    expect(wrong.statusCode).toBe(401);
    expect(unknown.statusCode).toBe(401);
    expect(wrong.body).toBe(unknown.body);
    expect(wrong.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(wrong.json().code).toBe('auth.invalid_credentials');
  });

  it('refuses the stored hash used as the password (SECURITY A5)', async () => {
    const hash = await withSystem(rapport.pool, async (tx) => (await tx.query('select password_hash from users where id = $1', [ws.owner.id])).rows[0].password_hash);
    expect(hash).toMatch(/^\$argon2id\$/);
    expect((await login(ws.owner.email, hash, '10.0.0.3')).statusCode).toBe(401);
  });

  it('throttles password guessing with 429 and Retry-After, for known and unknown accounts alike (SECURITY A8)', async () => {
    const known = await addTestMember(rapport, ws, 'agent', 'guessed');
    for (const email of ['victim@example.test', known.email]) {
      const ip = `10.1.0.${email.length}`;
      for (let i = 0; i < 10; i++) expect((await login(email, `guess-${i}`, ip)).statusCode).toBe(401);
      const blocked = await login(email, known.password, ip);
      expect(blocked.statusCode).toBe(429);
      expect(blocked.json().code).toBe('auth.too_many_attempts');
      expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    }
  });

  it('keeps the session for GET /auth/session and ends it on logout', async () => {
    const member = await addTestMember(rapport, ws, 'agent');
    const s = await signIn(rapport, member.email, member.password);
    const session = await rapport.app.inject({ method: 'GET', url: '/api/v1/auth/session', headers: { cookie: s.cookie } });
    expect(session.statusCode).toBe(200);
    expect(session.json()).toMatchObject({ user: { email: member.email }, csrfToken: s.csrfToken, workspaces: [{ id: ws.workspaceId, role: 'agent' }] });

    const noCsrf = await rapport.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: { cookie: s.cookie } });
    expect(noCsrf.statusCode).toBe(403);
    expect(noCsrf.json().code).toBe('auth.csrf_failed');
    const out = await rapport.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: { cookie: s.cookie, 'x-csrf-token': s.csrfToken } });
    expect(out.statusCode).toBe(204);
    const after = await rapport.app.inject({ method: 'GET', url: '/api/v1/auth/session', headers: { cookie: s.cookie } });
    expect(after.statusCode).toBe(401);
    expect(after.json().code).toBe('auth.session_expired');
  });
});

describe('cookie-authenticated writes', () => {
  it('need the X-CSRF-Token of their own session; reads do not', async () => {
    const s = await signIn(rapport, ws.owner.email, ws.owner.password);
    const url = `/api/v1/workspaces/${ws.workspaceId}/customers`;
    const payload = { email: 'csrf@example.test' };
    expect((await rapport.app.inject({ method: 'GET', url, headers: { cookie: s.cookie } })).statusCode).toBe(200);
    expect((await rapport.app.inject({ method: 'POST', url, payload, headers: { cookie: s.cookie } })).statusCode).toBe(403);
    expect((await rapport.app.inject({ method: 'POST', url, payload, headers: { cookie: s.cookie, 'x-csrf-token': 'forged' } })).statusCode).toBe(403);
    const ok = await rapport.app.inject({ method: 'POST', url, payload, headers: { cookie: s.cookie, 'x-csrf-token': s.csrfToken } });
    expect(ok.statusCode).toBe(201);
  });

  it('a cross-site GET cannot change state: state-changing routes answer only to their methods (SECURITY A7)', async () => {
    const s = await signIn(rapport, ws.owner.email, ws.owner.password);
    const res = await rapport.app.inject({ method: 'GET', url: '/api/v1/auth/logout', headers: { cookie: s.cookie } });
    expect(res.statusCode).toBe(404);
    expect((await rapport.app.inject({ method: 'GET', url: '/api/v1/auth/session', headers: { cookie: s.cookie } })).statusCode).toBe(200);
  });
});

describe('API tokens', () => {
  it('are shown once, stored only as a hash, act in their own workspace only, and stop working when revoked', async () => {
    const api = client(rapport, ws.token, ws.workspaceId);
    const s = await signIn(rapport, ws.owner.email, ws.owner.password);
    const created = await rapport.app.inject({
      method: 'POST', url: `/api/v1/workspaces/${ws.workspaceId}/tokens`, headers: { cookie: s.cookie, 'x-csrf-token': s.csrfToken },
      payload: { name: 'zapier', role: 'agent', currentPassword: ws.owner.password },
    });
    expect(created.statusCode).toBe(201);
    const { token, id, prefix } = created.json();
    expect(token).toMatch(/^rpt_[A-Za-z0-9_-]{43}$/);
    expect(token.startsWith(prefix)).toBe(true);

    const listed = (await api.get('/tokens')).json().items.find((t: { id: string }) => t.id === id);
    expect(listed).toMatchObject({ name: 'zapier', role: 'agent', revokedAt: null });
    expect(JSON.stringify(listed)).not.toContain(token);
    const stored = await withSystem(rapport.pool, async (tx) => (await tx.query('select * from api_tokens where id = $1', [id])).rows[0]);
    expect(JSON.stringify(stored)).not.toContain(token.slice(10));

    const agentApi = client(rapport, token, ws.workspaceId);
    expect((await agentApi.get('/conversations')).statusCode).toBe(200);
    // The same token on another workspace is as if that workspace did not exist.
    const other = await createTestWorkspace(rapport);
    const elsewhere = await client(rapport, token, other.workspaceId).get('/conversations');
    expect(elsewhere.statusCode).toBe(404);
    expect(elsewhere.json().code).toBe('workspaces.not_found');

    expect((await api.delete(`/tokens/${id}`)).statusCode).toBe(200);
    const revoked = await agentApi.get('/conversations');
    expect(revoked.statusCode).toBe(401);
    expect(revoked.json().code).toBe('auth.unauthenticated');
  });

  it('need the password again, from a signed-in person; a token cannot mint tokens (SECURITY A6)', async () => {
    const url = `/api/v1/workspaces/${ws.workspaceId}/tokens`;
    const byToken = await client(rapport, ws.token, ws.workspaceId).post('/tokens', { name: 'x', currentPassword: ws.owner.password });
    expect(byToken.statusCode).toBe(401);
    expect(byToken.json().code).toBe('auth.reauthentication_required');
    const s = await signIn(rapport, ws.owner.email, ws.owner.password);
    const headers = { cookie: s.cookie, 'x-csrf-token': s.csrfToken };
    expect((await rapport.app.inject({ method: 'POST', url, headers, payload: { name: 'x' } })).statusCode).toBe(422);
    const wrong = await rapport.app.inject({ method: 'POST', url, headers, payload: { name: 'x', currentPassword: 'guess' } });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json().code).toBe('auth.reauthentication_required');
  });

  it('rejects malformed and unknown bearer tokens with 401', async () => {
    for (const header of ['Bearer nope', 'Bearer ' + 'x'.repeat(500), 'Basic abc', 'Bearer']) {
      const res = await rapport.app.inject({ method: 'GET', url: `/api/v1/workspaces/${ws.workspaceId}/conversations`, headers: { authorization: header } });
      expect(res.statusCode).toBe(401);
    }
  });

  it('cannot be given a higher role than their creator', async () => {
    const admin = await addTestMember(rapport, ws, 'admin');
    const s = await signIn(rapport, admin.email, admin.password);
    const res = await rapport.app.inject({
      method: 'POST', url: `/api/v1/workspaces/${ws.workspaceId}/tokens`, payload: { name: 'x', role: 'owner' },
      headers: { cookie: s.cookie, 'x-csrf-token': s.csrfToken },
    });
    expect(res.statusCode).toBe(422);
  });
});
