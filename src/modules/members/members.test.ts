import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addTestMember, client, createTestWorkspace, signIn, type TestServer, type TestWorkspace, startWithWorkspace } from '../../../test/helpers.js';

let rapport: TestServer;
let ws: TestWorkspace;
let admin: ReturnType<typeof client>;

beforeAll(async () => ({ rapport, ws, api: admin } = await startWithWorkspace()));
afterAll(async () => rapport?.stop());

const asSession = (s: { cookie: string; csrfToken: string }, method: 'GET' | 'PATCH' | 'DELETE', path: string, payload?: unknown) =>
  rapport.app.inject({ method, url: `/api/v1/workspaces/${ws.workspaceId}${path}`, headers: { cookie: s.cookie, 'x-csrf-token': s.csrfToken }, ...(payload ? { payload: payload as object } : {}) });

describe('changing roles', () => {
  it('takes effect on the next request of that member', async () => {
    const m = await addTestMember(rapport, ws, 'agent', 'Riley');
    const session = await signIn(rapport, m.email, m.password);
    expect((await asSession(session, 'GET', '/tokens')).statusCode).toBe(403);
    const res = await admin.patch(`/users/${m.id}`, { role: 'admin' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id: m.id, role: 'admin' });
    expect((await asSession(session, 'GET', '/tokens')).statusCode).toBe(200);
  });

  it('lets only an owner grant or change owner, and never demotes the last owner', async () => {
    const m = await addTestMember(rapport, ws, 'agent', 'Olive');
    expect((await admin.patch(`/users/${m.id}`, { role: 'owner' })).json().code).toBe('users.owner_role_needs_owner');
    expect((await admin.patch(`/users/${ws.owner.id}`, { role: 'agent' })).json().code).toBe('users.owner_change_needs_owner');
    expect((await admin.delete(`/users/${ws.owner.id}`)).json().code).toBe('users.owner_change_needs_owner');
    const owner = await signIn(rapport, ws.owner.email, ws.owner.password);
    const lastOwner = await asSession(owner, 'PATCH', `/users/${ws.owner.id}`, { role: 'admin' });
    expect(lastOwner.statusCode).toBe(409);
    expect(lastOwner.json().code).toBe('users.last_owner');
    expect((await asSession(owner, 'DELETE', `/users/${ws.owner.id}`)).json().code).toBe('users.last_owner');
    expect((await asSession(owner, 'PATCH', `/users/${m.id}`, { role: 'owner' })).json().role).toBe('owner');
    // Two owners now: one may step down.
    expect((await asSession(owner, 'PATCH', `/users/${m.id}`, { role: 'agent' })).json().role).toBe('agent');
  });

  it('refuses agents, and members of another workspace (404)', async () => {
    const m = await addTestMember(rapport, ws, 'agent', 'Quinn');
    const session = await signIn(rapport, m.email, m.password);
    expect((await asSession(session, 'PATCH', `/users/${m.id}`, { role: 'admin' })).statusCode).toBe(403);
    const other = await createTestWorkspace(rapport);
    expect((await admin.patch(`/users/${other.owner.id}`, { role: 'agent' })).json().code).toBe('users.not_found');
    expect((await admin.delete(`/users/${other.owner.id}`)).statusCode).toBe(404);
  });
});

describe('changing someone with more than a role (SECURITY A2)', () => {
  it('refuses a password, an email, a workspace id or another id in the body, and changes nothing', async () => {
    const m = await addTestMember(rapport, ws, 'agent', 'Sidney');
    const other = await createTestWorkspace(rapport);
    for (const extra of [{ password: 'attacker chosen password' }, { email: 'attacker@example.test' }, { workspaceId: other.workspaceId }, { id: ws.owner.id }, { name: 'Renamed' }]) {
      const res = await admin.patch(`/users/${m.id}`, { role: 'admin', ...extra });
      expect(res.statusCode, JSON.stringify(extra)).toBe(422);
      expect(res.json().code).toBe('validation.failed');
    }
    expect((await admin.get('/users')).json().items.find((u: { id: string }) => u.id === m.id)).toMatchObject({ role: 'agent', name: 'Sidney' });
    await signIn(rapport, m.email, m.password);
    // Another workspace's member through this workspace's URL is a missing one; that workspace is unchanged.
    expect((await admin.patch(`/users/${other.owner.id}`, { role: 'client_viewer' })).statusCode).toBe(404);
    expect((await client(rapport, other.token, other.workspaceId).get('/users')).json().items[0]).toMatchObject({ id: other.owner.id, role: 'owner' });
  }, 90_000);

  it('an admin cannot make themselves owner', async () => {
    const a = await addTestMember(rapport, ws, 'admin', 'Ambitious');
    const s = await signIn(rapport, a.email, a.password);
    const res = await asSession(s, 'PATCH', `/users/${a.id}`, { role: 'owner' });
    expect(res.statusCode).toBe(403);
    expect(res.json().code).toBe('users.owner_role_needs_owner');
  }, 90_000);
});

describe('removing a member', () => {
  it('ends their access to the workspace at once, keeping the account', async () => {
    const m = await addTestMember(rapport, ws, 'agent', 'Parker');
    const session = await signIn(rapport, m.email, m.password);
    expect((await asSession(session, 'GET', '/conversations')).statusCode).toBe(200);
    expect((await admin.delete(`/users/${m.id}`)).statusCode).toBe(204);
    const after = await asSession(session, 'GET', '/conversations');
    expect(after.statusCode).toBe(404);
    expect(after.json().code).toBe('workspaces.not_found');
    expect((await admin.get('/users')).json().items.some((u: { id: string }) => u.id === m.id)).toBe(false);
    await signIn(rapport, m.email, m.password);
  });
});
