import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withWorkspace } from '../../db/tenancy.js';
import { openSocket } from '../realtime/realtime.test-client.js';
import { addTestMember, client, createTestWorkspace, signIn, startWithWorkspace, tokenFor, type TestServer, type TestWorkspace } from '../../../test/helpers.js';

let rapport: TestServer;
let ws: TestWorkspace;

beforeAll(async () => ({ rapport, ws } = await startWithWorkspace()));
afterAll(async () => rapport?.stop());

/** A signed-in member's calls (cookie and CSRF token), as the agent app makes them. */
async function member(role: 'agent' | 'admin', name: string, where = ws) {
  const m = await addTestMember(rapport, where, role, name);
  const s = await signIn(rapport, m.email, m.password);
  const call = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown) =>
    rapport.app.inject({
      method,
      url: `/api/v1/workspaces/${where.workspaceId}${path}`,
      headers: { cookie: s.cookie, 'x-csrf-token': s.csrfToken, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { payload: JSON.stringify(body) } : {}),
    });
  return { ...m, call, cookie: s.cookie };
}

const names = (res: { json: () => { items: Array<{ name: string }> } }) => res.json().items.map((v) => v.name);

describe('saved views', () => {
  it('an agent saves, renames, shares and deletes their own view; others see it only once shared; admins manage shared ones', async () => {
    const ana = await member('agent', 'Ana');
    const bo = await member('agent', 'Bo');
    const admin = await member('admin', 'Ada');
    const created = await ana.call('POST', '/saved-views', { name: ' My pending ', filters: { assignee: 'me', status: ['pending'] } });
    expect(created.statusCode, created.body).toBe(201);
    const view = created.json();
    expect(view).toMatchObject({ name: 'My pending', filters: { assignee: 'me', status: ['pending'] }, shared: false, ownerId: ana.id, mine: true, canManage: true });
    expect(names(await ana.call('GET', '/saved-views'))).toEqual(['My pending']);
    // Private: nobody else lists it, and it answers 404 to them like a missing one, admins included.
    expect(names(await bo.call('GET', '/saved-views'))).toEqual([]);
    for (const other of [bo, admin]) {
      expect((await other.call('PATCH', `/saved-views/${view.id}`, { name: 'Mine now' })).json().code).toBe('views.not_found');
      expect((await other.call('DELETE', `/saved-views/${view.id}`)).statusCode).toBe(404);
    }

    const shared = (await ana.call('PATCH', `/saved-views/${view.id}`, { name: 'Team pending', shared: true })).json();
    expect(shared).toMatchObject({ name: 'Team pending', shared: true });
    const seen = (await bo.call('GET', '/saved-views')).json().items;
    expect(seen).toEqual([expect.objectContaining({ id: view.id, name: 'Team pending', mine: false, canManage: false })]);
    // Bo sees it but may not change it; an admin may.
    const refused = await bo.call('PATCH', `/saved-views/${view.id}`, { name: 'Bo was here' });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().code).toBe('views.not_yours');
    expect((await bo.call('DELETE', `/saved-views/${view.id}`)).statusCode).toBe(403);
    expect((await admin.call('GET', '/saved-views')).json().items[0]).toMatchObject({ canManage: true, mine: false });
    expect((await admin.call('PATCH', `/saved-views/${view.id}`, { filters: { assignee: 'me', status: ['open', 'pending'] } })).json().filters.status).toEqual(['open', 'pending']);
    // An API token reads the shared views and saves none of its own.
    const token = client(rapport, await tokenFor(rapport, ws, 'agent'), ws.workspaceId);
    expect(names(await token.get('/saved-views'))).toEqual(['Team pending']);
    expect((await token.post('/saved-views', { name: 'x', filters: {} })).json().code).toBe('views.people_only');
    // A client viewer has no saved views.
    expect((await client(rapport, await tokenFor(rapport, ws, 'client_viewer'), ws.workspaceId).get('/saved-views')).statusCode).toBe(403);

    expect((await admin.call('DELETE', `/saved-views/${view.id}`)).statusCode).toBe(204);
    expect(names(await ana.call('GET', '/saved-views'))).toEqual([]);

    // Each change is an event naming the view, never its name or filters.
    const events = await withWorkspace(
      rapport.pool,
      ws.workspaceId,
      async (tx) =>
        (await tx.query<{ type: string; data: Record<string, unknown> }>("select type, data from events where workspace_id = $1 and type like 'saved_view.%' order by id", [ws.workspaceId])).rows,
    );
    // Made private first: its creation was for Ana alone; shared, every change is for every agent.
    expect(events.map((e) => e.type)).toEqual(['saved_view.private_created', 'saved_view.updated', 'saved_view.updated', 'saved_view.deleted']);
    expect(events[1].data).toEqual({ savedViewId: view.id, ownerId: ana.id, shared: true });
  });

  it("tells only its owner's sockets about a private view (not another agent's, not an API token's); a shared one, or one shared until now, every agent", async () => {
    const ana = await member('agent', 'AnaSockets');
    const bo = await member('agent', 'BoSockets');
    const open = (p: { cookie?: string; token?: string }) => openSocket(rapport.url, { workspaceId: ws.workspaceId, ...p });
    const [anaSocket, boSocket, tokenSocket] = await Promise.all([open({ cookie: ana.cookie }), open({ cookie: bo.cookie }), open({ token: await tokenFor(rapport, ws, 'agent') })]);
    await Promise.all([anaSocket, boSocket, tokenSocket].map((s) => s.next((f) => f.type === 'ready')));
    try {
      const secret = (await ana.call('POST', '/saved-views', { name: 'Job hunt', filters: {} })).json();
      expect((await ana.call('PATCH', `/saved-views/${secret.id}`, { name: 'Still mine' })).statusCode).toBe(200);
      const team = (await ana.call('POST', '/saved-views', { name: 'Team', filters: {}, shared: true })).json();
      expect((await ana.call('PATCH', `/saved-views/${team.id}`, { shared: false })).statusCode).toBe(200);
      expect((await ana.call('DELETE', `/saved-views/${secret.id}`)).statusCode).toBe(204);
      // The last change everyone may hear of, then one more private one: wait for it on each socket.
      const about = (id: string) => (f: { type: string; event?: { data?: { savedViewId?: string } } }) => f.type === 'event' && f.event?.data?.savedViewId === id;
      await anaSocket.next(about(secret.id));
      await anaSocket.next(about(secret.id));
      await anaSocket.next(about(secret.id));
      for (const s of [anaSocket, boSocket, tokenSocket]) {
        await s.next(about(team.id));
        await s.next(about(team.id));
      }
      // Once made private, it is the owner's alone again: a rename reaches nobody else.
      expect((await ana.call('PATCH', `/saved-views/${team.id}`, { name: 'Mine now' })).statusCode).toBe(200);
      await anaSocket.next(about(team.id));
      expect((await bo.call('POST', '/saved-views', { name: 'Bo marker', filters: {}, shared: true })).statusCode).toBe(201);
      const marker = (f: { type: string; event?: { type?: string; actor?: { id?: string } } }) => f.type === 'event' && f.event?.type === 'saved_view.created' && f.event.actor?.id === bo.id;
      // Every event before the marker has reached the other sockets by the time it does (one ordered stream).
      await boSocket.next(marker);
      await tokenSocket.next(marker);
      expect(boSocket.frames.filter(about(secret.id))).toEqual([]);
      expect(tokenSocket.frames.filter(about(secret.id))).toEqual([]);
      expect(boSocket.frames.filter(about(team.id))).toHaveLength(2);
      expect(tokenSocket.frames.filter(about(team.id))).toHaveLength(2);
    } finally {
      for (const s of [anaSocket, boSocket, tokenSocket]) s.close();
    }
  });

  it('checks the filters with the list API schema and refuses what the list would refuse, in words', async () => {
    const cy = await member('agent', 'Cy');
    for (const body of [
      { name: 'x', filters: { status: ['lost'] } },
      { name: 'x', filters: { assignee: 'everyone' } },
      { name: 'x', filters: { colour: 'red' } },
      { name: '   ', filters: {} },
      { name: 'x'.repeat(81), filters: {} },
    ]) {
      const res = await cy.call('POST', '/saved-views', body);
      expect(res.statusCode, JSON.stringify(body)).toBe(422);
      expect(res.json().code).toBe('validation.failed');
    }
    const ok = await cy.call('POST', '/saved-views', { name: 'Urgent refunds', filters: { priority: 'urgent', tag: 'refund', status: ['open', 'pending'], sort: 'waiting_longest' }, shared: true });
    expect(ok.statusCode).toBe(201);
  });

  it("keeps workspaces apart: another workspace's view answers 404 and is never listed", async () => {
    const here = await member('admin', 'Here');
    const other = await createTestWorkspace(rapport);
    const there = await member('admin', 'There', other);
    const theirs = (await there.call('POST', '/saved-views', { name: 'Theirs', filters: {}, shared: true })).json();
    expect(names(await here.call('GET', '/saved-views'))).not.toContain('Theirs');
    expect((await here.call('PATCH', `/saved-views/${theirs.id}`, { name: 'Stolen' })).statusCode).toBe(404);
    expect((await here.call('DELETE', `/saved-views/${theirs.id}`)).statusCode).toBe(404);
    // Another workspace's token on this workspace's path: 404, like a missing workspace.
    expect((await client(rapport, other.token, ws.workspaceId).get('/saved-views')).statusCode).toBe(404);
    expect(names(await there.call('GET', '/saved-views'))).toEqual(['Theirs']);
  });
});
