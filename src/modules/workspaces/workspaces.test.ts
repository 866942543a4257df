import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addTestMember, client, createTestWorkspace, signIn, startTestServer, type TestServer, type TestWorkspace, startWithWorkspace } from '../../../test/helpers.js';
import { createUserAccount } from './workspaces.service.js';

let rapport: TestServer;
let ws: TestWorkspace;
let api: ReturnType<typeof client>;

beforeAll(async () => ({ rapport, ws, api } = await startWithWorkspace()));
afterAll(async () => rapport?.stop());

describe('people', () => {
  it('are added by invitation: the answer is the link for the person, the same for an email with or without an account (issue #8 H1, L3)', async () => {
    const existing = {
      email: 'known.person@example.test',
      id: await createUserAccount(rapport.server, { email: 'known.person@example.test', name: 'Known Person', password: 'a password of theirs' }),
    };
    const fresh = await api.post('/users', { email: 'New.Agent@example.test', name: 'New Agent', role: 'agent' });
    const known = await api.post('/users', { email: existing.email, name: 'Whatever', role: 'supervisor' });
    for (const res of [fresh, known]) {
      expect(res.statusCode).toBe(201);
      expect(res.json().acceptUrl).toMatch(/\/accept-invitation#token=rpi_/);
    }
    expect(fresh.json()).toMatchObject({ email: 'new.agent@example.test', role: 'agent' });
    // Nothing about the existing account: not its id, not its name.
    expect(Object.keys(known.json()).sort()).toEqual(Object.keys(fresh.json()).sort());
    expect(known.body).not.toContain(existing.id);
    expect(known.body).not.toContain('Known Person');
    // Nobody joined yet: the people listed are the members, not the invited.
    const list = (await api.get('/users')).json().items.map((u: { email: string }) => u.email);
    expect(list).not.toContain('new.agent@example.test');
    expect(list).not.toContain(existing.email);
    expect((await api.post('/users', { email: ws.owner.email, role: 'agent' })).json().code).toBe('users.already_member');
  });

  it('are never given a password by a workspace: the takeover of issue #8 H1 is refused', async () => {
    const other = await createTestWorkspace(rapport);
    const victim = await addTestMember(rapport, other, 'agent', 'Victim');
    for (const email of [victim.email, 'not-yet-here@example.test']) {
      const res = await api.post('/users', { email, name: 'Taken Over', role: 'admin', password: 'attacker chosen password' });
      expect(res.statusCode).toBe(422);
      expect(res.json().code).toBe('validation.failed');
    }
    const created = await rapport.pool.query("select set_config('app.system', 'on', true), (select count(*)::int from users where lower(email) = 'not-yet-here@example.test') as n");
    expect(created.rows[0].n).toBe(0);
    const bad = await rapport.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: victim.email, password: 'attacker chosen password' } });
    expect(bad.statusCode).toBe(401);
    const s = await signIn(rapport, victim.email, victim.password);
    expect(s.body.workspaces.map((w: { id: string }) => w.id)).toEqual([other.workspaceId]);
  });

  it('can be made owners only by an owner', async () => {
    const admin = await addTestMember(rapport, ws, 'admin');
    const s = await signIn(rapport, admin.email, admin.password);
    const res = await rapport.app.inject({
      method: 'POST',
      url: `/api/v1/workspaces/${ws.workspaceId}/users`,
      headers: { cookie: s.cookie, 'x-csrf-token': s.csrfToken },
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
  it('are created by an instance admin, who becomes owner; slugs are unique', async () => {
    const adminId = await createUserAccount(rapport.server, { email: 'instance.admin@example.test', name: 'Instance Admin', password: 'correct horse battery staple', instanceAdmin: true });
    const s = await signIn(rapport, 'instance.admin@example.test', 'correct horse battery staple');
    expect(s.body.user).toMatchObject({ id: adminId, instanceAdmin: true });
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

  it('are not created by any signed-in person unless the instance allows it (WORKSPACE_CREATION, issue #8 H1)', async () => {
    // An owner of some workspace is not an instance admin.
    const s = await signIn(rapport, ws.owner.email, ws.owner.password);
    expect(s.body.user.instanceAdmin).toBe(false);
    const res = await rapport.app.inject({ method: 'POST', url: '/api/v1/workspaces', headers: { cookie: s.cookie, 'x-csrf-token': s.csrfToken }, payload: { name: 'Mine', slug: 'attacker-owned' } });
    expect(res.statusCode).toBe(403);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json().code).toBe('workspaces.creation_not_allowed');

    const open = await startTestServer({ config: { workspaceCreation: 'everyone' } });
    try {
      const person = await createTestWorkspace(open);
      const t = await signIn(open, person.owner.email, person.owner.password);
      const ok = await open.app.inject({ method: 'POST', url: '/api/v1/workspaces', headers: { cookie: t.cookie, 'x-csrf-token': t.csrfToken }, payload: { name: 'Theirs', slug: 'theirs' } });
      expect(ok.statusCode).toBe(201);
    } finally {
      await open.stop();
    }
  });
});
