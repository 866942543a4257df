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

const login = (email: string, password: string, ip = '10.0.0.1') => rapport.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email, password }, remoteAddress: ip });

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
  }, 90_000); // 22 argon2 checks: slow on a busy machine

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
      method: 'POST',
      url: `/api/v1/workspaces/${ws.workspaceId}/tokens`,
      headers: { cookie: s.cookie, 'x-csrf-token': s.csrfToken },
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
    for (const header of ['Bearer nope', `Bearer ${'x'.repeat(500)}`, 'Basic abc', 'Bearer']) {
      const res = await rapport.app.inject({ method: 'GET', url: `/api/v1/workspaces/${ws.workspaceId}/conversations`, headers: { authorization: header } });
      expect(res.statusCode).toBe(401);
    }
  });

  it('cannot be given a higher role than their creator', async () => {
    const admin = await addTestMember(rapport, ws, 'admin');
    const s = await signIn(rapport, admin.email, admin.password);
    const res = await rapport.app.inject({
      method: 'POST',
      url: `/api/v1/workspaces/${ws.workspaceId}/tokens`,
      payload: { name: 'x', role: 'owner' },
      headers: { cookie: s.cookie, 'x-csrf-token': s.csrfToken },
    });
    expect(res.statusCode).toBe(422);
  });
});

describe('password guessing spread over many addresses (issue #8 L1)', () => {
  it('eleven addresses × 10 wrong passwords do not lock the owner out: the right password from a new address signs in, and the owner is alerted', async () => {
    const victim = await addTestMember(rapport, ws, 'agent', 'Targeted');
    // Ten addresses in ten networks have each sent ten wrong passwords (counted straight into the
    // throttle but for the last one: a hundred argon2 checks would only slow the test down)...
    for (let a = 0; a < 10; a++) for (let i = 0; i < 10; i++) if (a < 9 || i < 9) rapport.server.throttle.fail(victim.email, `172.16.${a}.9`);
    expect((await login(victim.email, 'wrong-last', '172.16.9.9')).statusCode).toBe(401);
    // ...and the eleventh sends its ten over HTTP: the first is checked, the rest are refused.
    const codes: number[] = [];
    for (let i = 0; i < 10; i++) codes.push((await login(victim.email, `wrong-${i}`, '172.16.10.9')).statusCode);
    expect(codes).toEqual([401, ...Array(9).fill(429)]);
    // Those addresses stay refused, even with the right password...
    expect((await login(victim.email, victim.password, '172.16.3.9')).statusCode).toBe(429);
    // ...but the owner, from an address that never failed, signs in.
    const owner = await login(victim.email, victim.password, '198.51.100.23');
    expect(owner.statusCode).toBe(200);
    expect(owner.json().alerts).toEqual([
      expect.objectContaining({ kind: 'password_guessing', message: expect.stringMatching(/wrong passwords were tried on your account from \d+ different addresses/) }),
    ]);

    // The alert is in the session answer until the owner dismisses it; nobody else can.
    const cookie = `rapport_session=${owner.cookies.find((c) => c.name === 'rapport_session')!.value}`;
    const headers = { cookie, 'x-csrf-token': owner.json().csrfToken };
    const alertId = owner.json().alerts[0].id;
    const other = await signIn(rapport, ws.owner.email, ws.owner.password);
    const notTheirs = await rapport.app.inject({ method: 'POST', url: `/api/v1/auth/alerts/${alertId}/dismiss`, headers: { cookie: other.cookie, 'x-csrf-token': other.csrfToken } });
    expect(notTheirs.statusCode).toBe(404);
    expect(notTheirs.json().code).toBe('auth.alert_not_found');
    expect((await rapport.app.inject({ method: 'GET', url: '/api/v1/auth/session', headers: { cookie } })).json().alerts).toHaveLength(1);
    expect((await rapport.app.inject({ method: 'POST', url: `/api/v1/auth/alerts/${alertId}/dismiss`, headers })).statusCode).toBe(204);
    expect((await rapport.app.inject({ method: 'GET', url: '/api/v1/auth/session', headers: { cookie } })).json().alerts).toEqual([]);
  }, 120_000);
});

describe('re-authentication (issue #8 L2)', () => {
  it('is throttled like a sign-in: ten wrong passwords, then 429 even for the right one from that address', async () => {
    const admin = await addTestMember(rapport, ws, 'admin', 'Reauth');
    const s = await signIn(rapport, admin.email, admin.password);
    const create = (currentPassword: string) =>
      rapport.app.inject({
        method: 'POST',
        url: `/api/v1/workspaces/${ws.workspaceId}/tokens`,
        remoteAddress: '203.0.113.50',
        headers: { cookie: s.cookie, 'x-csrf-token': s.csrfToken },
        payload: { name: 'x', role: 'agent', currentPassword },
      });
    for (let i = 0; i < 10; i++) expect((await create(`guess-${i}`)).statusCode).toBe(401);
    const blocked = await create(admin.password);
    expect(blocked.statusCode).toBe(429);
    expect(blocked.json().code).toBe('auth.too_many_attempts');
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    // The same counts guard sign-in from that address.
    expect((await login(admin.email, admin.password, '203.0.113.50')).statusCode).toBe(429);
  }, 60_000);
});

describe("a token's role follows its creator (issue #8 M3)", () => {
  async function adminWithToken() {
    const admin = await addTestMember(rapport, ws, 'admin', 'TokenMaker');
    const s = await signIn(rapport, admin.email, admin.password);
    const res = await rapport.app.inject({
      method: 'POST',
      url: `/api/v1/workspaces/${ws.workspaceId}/tokens`,
      headers: { cookie: s.cookie, 'x-csrf-token': s.csrfToken },
      payload: { name: 'automation', role: 'admin', currentPassword: admin.password },
    });
    expect(res.statusCode).toBe(201);
    return { admin, token: client(rapport, res.json().token, ws.workspaceId), tokenId: res.json().id as string };
  }
  const owner = () => client(rapport, ws.token, ws.workspaceId);
  const inviteAdmin = (api: ReturnType<typeof client>) => api.post('/invitations', { email: `escalate-${Math.random().toString(36).slice(2)}@example.test`, role: 'admin' });

  it("a demoted admin's token acts with their new role at once", async () => {
    const { admin, token } = await adminWithToken();
    expect((await inviteAdmin(token)).statusCode).toBe(201);
    expect((await owner().patch(`/users/${admin.id}`, { role: 'agent' })).statusCode).toBe(200);
    const refused = await inviteAdmin(token);
    expect(refused.statusCode).toBe(403);
    expect(refused.json().code).toBe('auth.forbidden');
    expect((await token.get('/conversations')).statusCode).toBe(200); // still an agent's token
  }, 90_000);

  it("a removed admin's token is revoked and cannot create admins", async () => {
    const { admin, token, tokenId } = await adminWithToken();
    expect((await owner().delete(`/users/${admin.id}`)).statusCode).toBe(204);
    const refused = await inviteAdmin(token);
    expect(refused.statusCode).toBe(401);
    expect(refused.json().code).toBe('auth.unauthenticated');
    const listed = (await owner().get('/tokens')).json().items.find((t: { id: string }) => t.id === tokenId);
    expect(listed.revokedAt).not.toBeNull();
  }, 90_000);

  it("a disabled account's tokens stop working", async () => {
    const { admin, token } = await adminWithToken();
    expect((await token.get('/conversations')).statusCode).toBe(200);
    await withSystem(rapport.pool, (tx) => tx.query('update users set disabled_at = now() where id = $1', [admin.id]));
    rapport.server.resolver.forget(); // no route disables accounts yet; other instances see it within the 5 s cache
    expect((await inviteAdmin(token)).statusCode).toBe(401);
    expect((await token.get('/conversations')).statusCode).toBe(401);
  }, 90_000);
});
