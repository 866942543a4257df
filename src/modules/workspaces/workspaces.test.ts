import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addTestMember, client, createTestWorkspace, signIn, type TestServer, type TestWorkspace, startWithWorkspace } from '../../../test/helpers.js';

let rapport: TestServer;
let ws: TestWorkspace;
let api: ReturnType<typeof client>;

beforeAll(async () => ({ rapport, ws, api } = await startWithWorkspace()));
afterAll(async () => rapport?.stop());

describe('people', () => {
  it('are added with a role and listed', async () => {
    const res = await api.post('/users', { email: 'New.Agent@example.test', name: 'New Agent', role: 'agent', password: 'a long enough password' });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ email: 'new.agent@example.test', name: 'New Agent', role: 'agent' });
    const list = (await api.get('/users')).json().items;
    expect(list.map((u: { email: string; role: string }) => [u.email, u.role])).toEqual(
      expect.arrayContaining([[ws.owner.email, 'owner'], ['new.agent@example.test', 'agent']]),
    );
    expect(JSON.stringify(list)).not.toMatch(/password/i);
    expect((await api.post('/users', { email: 'new.agent@example.test', name: 'Again', role: 'agent' })).json().code).toBe('users.already_member');
  });

  it('who already have an account join with it unchanged: nobody takes it over by adding it (SECURITY A2, A3)', async () => {
    const other = await createTestWorkspace(rapport);
    const person = await addTestMember(rapport, other, 'agent', 'Multi');
    const res = await api.post('/users', { email: person.email, name: 'Someone Else', role: 'supervisor', password: 'attacker chosen password' });
    expect(res.statusCode).toBe(201);
    expect(res.json().name).toBe('Multi');
    // The old password still works, the attacker's does not, and both workspaces are listed.
    const bad = await rapport.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: person.email, password: 'attacker chosen password' } });
    expect(bad.statusCode).toBe(401);
    const s = await signIn(rapport, person.email, person.password);
    expect(s.body.workspaces.map((w: { id: string; role: string }) => [w.id, w.role]).sort()).toEqual(
      [[other.workspaceId, 'agent'], [ws.workspaceId, 'supervisor']].sort(),
    );
  });

  it('can be made owners only by an owner', async () => {
    const admin = await addTestMember(rapport, ws, 'admin');
    const s = await signIn(rapport, admin.email, admin.password);
    const res = await rapport.app.inject({
      method: 'POST', url: `/api/v1/workspaces/${ws.workspaceId}/users`, headers: { cookie: s.cookie, 'x-csrf-token': s.csrfToken },
      payload: { email: 'wannabe@example.test', name: 'W', role: 'owner' },
    });
    expect(res.statusCode).toBe(403);
    expect(res.json().code).toBe('users.owner_role_needs_owner');
  });
});

describe('teams', () => {
  it('are created with members of the workspace and listed; names are unique', async () => {
    const agent = await addTestMember(rapport, ws, 'agent');
    const res = await api.post('/teams', { name: 'Returns', memberIds: [agent.id] });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ name: 'Returns', memberIds: [agent.id] });
    expect((await api.get('/teams')).json().items.map((t: { name: string }) => t.name)).toContain('Returns');
    expect((await api.post('/teams', { name: 'returns' })).json().code).toBe('teams.name_taken');
  });
});

describe('inboxes', () => {
  it('are created for a registered channel kind and listed', async () => {
    const res = await api.post('/inboxes', { name: 'Partner API', channel: 'api' });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ name: 'Partner API', channel: 'api', settings: {} });
    const names = (await api.get('/inboxes')).json().items.map((i: { name: string }) => i.name);
    expect(names).toEqual(expect.arrayContaining(['API', 'Partner API']));
    expect((await api.get(`/inboxes/${res.json().id}`)).json().name).toBe('Partner API');
  });

  it('refuse unknown channel kinds and settings the channel does not take', async () => {
    expect((await api.post('/inboxes', { name: 'Fax', channel: 'fax' })).json().code).toBe('inboxes.unknown_channel');
    expect((await api.post('/inboxes', { name: 'X', channel: 'api', settings: { evil: true } })).json().code).toBe('inboxes.invalid_settings');
  });
});

describe('workspaces', () => {
  it('are created by a signed-in person who becomes owner; slugs are unique', async () => {
    const s = await signIn(rapport, ws.owner.email, ws.owner.password);
    const post = (payload: Record<string, unknown>) => rapport.app.inject({ method: 'POST', url: '/api/v1/workspaces', headers: { cookie: s.cookie, 'x-csrf-token': s.csrfToken }, payload });
    const res = await post({ name: 'Second brand', slug: 'second-brand' });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ slug: 'second-brand', role: 'owner' });
    expect((await post({ name: 'Again', slug: 'second-brand' })).json().code).toBe('workspaces.slug_taken');
    expect((await post({ name: 'Bad', slug: 'Not A Slug' })).statusCode).toBe(422);
    const mine = await rapport.app.inject({ method: 'GET', url: '/api/v1/workspaces', headers: { cookie: s.cookie } });
    expect(mine.json().items.map((w: { slug: string }) => w.slug)).toContain('second-brand');
    const info = await client(rapport, ws.token, res.json().id).get(`/api/v1/workspaces/${res.json().id}`);
    expect(info.statusCode).toBe(404);
  });
});
