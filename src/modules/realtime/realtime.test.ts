import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modules as defaultModules } from '../index.js';
import { addTestMember, client, createTestWorkspace, eventually, signIn, startTestServer, type TestServer, type TestWorkspace } from '../../../test/helpers.js';
import { createRealtimeModule } from './realtime.module.js';
import { openSocket, type TestSocket } from './realtime.test-client.js';

// Two instances on one database, with fast heartbeats and presence expiry, and a small replay bound.
const realtimeA = createRealtimeModule({ gapTimeoutMs: 1500, heartbeatMs: 300, replayLimit: 5, presence: { refreshMs: 300, ttlMs: 900, tickMs: 100 } });
const realtimeB = createRealtimeModule({ gapTimeoutMs: 1500, heartbeatMs: 300, replayLimit: 5, presence: { refreshMs: 300, ttlMs: 900, tickMs: 100 } });
const withRealtime = (m: ReturnType<typeof createRealtimeModule>) => defaultModules.map((d) => (d.name === 'realtime' ? m : d));

let a: TestServer;
let b: TestServer;
let ws: TestWorkspace;
let api: ReturnType<typeof client>;
let agent: { id: string; email: string; password: string; cookie: string };
let agent2: { id: string; email: string; password: string; cookie: string };
const open: TestSocket[] = [];

async function connect(server: TestServer, opts: Parameters<typeof openSocket>[1]): Promise<TestSocket> {
  const s = await openSocket(server.url, opts);
  open.push(s);
  return s;
}
const isEvent = (type: string, conversationId?: string) => (f: any) => f.type === 'event' && f.event.type === type && (!conversationId || f.event.conversationId === conversationId);
const newConversation = (body = 'hello') => ({ customer: { email: `c${Math.random()}@example.test`, name: 'Cy' }, message: { body } });

beforeAll(async () => {
  a = await startTestServer({ modules: withRealtime(realtimeA) });
  b = await startTestServer({ modules: withRealtime(realtimeB), config: { databaseUrl: a.config.databaseUrl } });
  ws = await createTestWorkspace(a);
  api = client(a, ws.token, ws.workspaceId);
  const m1 = await addTestMember(a, ws, 'agent', 'Alice');
  const m2 = await addTestMember(a, ws, 'agent', 'Bob');
  agent = { ...m1, cookie: (await signIn(a, m1.email, m1.password)).cookie };
  agent2 = { ...m2, cookie: (await signIn(a, m2.email, m2.password)).cookie };
});
afterAll(async () => {
  for (const s of open) s.ws.terminate();
  await b?.stop();
  await a?.stop();
});

describe('live events', () => {
  it('pushes a message created through the API to a connected agent', async () => {
    const s = await connect(a, { workspaceId: ws.workspaceId, cookie: agent.cookie });
    const ready = await s.next((f) => f.type === 'ready');
    expect(ready.lastEventId).toMatch(/^\d+$/);
    const c = (await api.post('/conversations', newConversation())).json();
    const created = await s.next(isEvent('conversation.created', c.id));
    expect(created.event).toMatchObject({ conversationId: c.id, actor: { type: 'token' }, data: { number: c.number } });
    expect(Number(created.event.id)).toBeGreaterThan(Number(ready.lastEventId));
    const reply = (await api.post(`/conversations/${c.id}/messages`, { type: 'reply', body: 'hi' })).json();
    const msg = await s.next((f) => isEvent('message.created', c.id)(f) && f.event.data.messageId === reply.id);
    expect(msg.event.data.messageType).toBe('outbound');
    // An agent's frame carries the conversation as the API shows it (issue 14: tabs patch their lists
    // from it instead of refetching), read after the event committed.
    expect(msg.conversation).toMatchObject({ id: c.id, number: c.number, status: 'open', lastMessage: { type: 'outbound', preview: 'hi' } });
    expect(created.conversation).toMatchObject({ id: c.id, number: c.number });
    // With its revision, which the reply raised: the app keeps the copy with the higher one.
    expect(c.revision).toBe(0);
    expect(msg.conversation.revision).toBeGreaterThan(c.revision);
  });

  it('delivers a message written on instance B to an agent connected to instance A, in id order', async () => {
    const onA = await connect(a, { workspaceId: ws.workspaceId, cookie: agent.cookie });
    await onA.next((f) => f.type === 'ready');
    const apiB = client(b, ws.token, ws.workspaceId);
    const c = (await apiB.post('/conversations', newConversation())).json();
    for (let i = 0; i < 5; i++) await apiB.post(`/conversations/${c.id}/messages`, { type: 'note', body: `n${i}` });
    await eventually(async () => onA.frames.filter(isEvent('message.created', c.id)).length === 6);
    const ids = onA.frames.filter((f) => f.type === 'event').map((f) => Number(f.event.id));
    expect([...ids].sort((x, y) => x - y)).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('keeps delivering after the LISTEN connection is lost (catches up from its last id)', async () => {
    const s = await connect(a, { workspaceId: ws.workspaceId, cookie: agent.cookie });
    await s.next((f) => f.type === 'ready');
    realtimeA.hubFor(a.server).dropListenerForTest();
    const c = (await api.post('/conversations', newConversation())).json();
    await s.next(isEvent('message.created', c.id), 15_000);
  });

  it('lets a non-browser client use a bearer token without an Origin', async () => {
    const s = await connect(b, { workspaceId: ws.workspaceId, token: ws.token, origin: null });
    await s.next((f) => f.type === 'ready');
    const c = (await api.post('/conversations', newConversation())).json();
    await s.next(isEvent('conversation.created', c.id));
  });
});

describe('ordering', () => {
  // An event whose transaction took its id first but commits last.
  async function slowEvent() {
    const tx = await a.pool.connect();
    await tx.query('begin');
    await tx.query("select set_config('app.workspace_id', $1, true)", [ws.workspaceId]);
    const { rows } = await tx.query<{ id: string }>("insert into events (workspace_id, type, actor_type, data, created_at) values ($1, 'test.slow', 'system', '{}', now()) returning id", [
      ws.workspaceId,
    ]);
    return {
      id: rows[0].id,
      finish: async (how: 'commit' | 'rollback') => {
        await tx.query(how);
        tx.release();
      },
    };
  }

  it('holds later events until an earlier id commits, so ids arrive in order and the last id is a safe cursor', async () => {
    const s = await connect(a, { workspaceId: ws.workspaceId, cookie: agent.cookie });
    await s.next((f) => f.type === 'ready');
    const slow = await slowEvent();
    const c = (await api.post('/conversations', newConversation())).json();
    // The hub has read the conversation's two events and holds them behind the open id; a pong answers
    // after every frame sent before it on this socket, so nothing of the conversation went out.
    await eventually(async () => realtimeA.hubFor(a.server).heldEvents >= 2);
    s.send({ type: 'ping' });
    await s.next((f) => f.type === 'pong');
    expect(s.frames.some((f) => f.type === 'event' && f.event.conversationId === c.id)).toBe(false);
    await slow.finish('commit');
    await s.next(isEvent('message.created', c.id));
    const ids = s.frames.filter((f) => f.type === 'event').map((f) => f.event.id);
    expect(ids[0]).toBe(slow.id);
    expect(ids.map(Number)).toEqual([...ids.map(Number)].sort((x, y) => x - y));
  });

  it('gives up on an id whose transaction rolled back after the gap timeout', async () => {
    const s = await connect(a, { workspaceId: ws.workspaceId, cookie: agent.cookie });
    await s.next((f) => f.type === 'ready');
    const slow = await slowEvent();
    await slow.finish('rollback');
    const c = (await api.post('/conversations', newConversation())).json();
    await s.next(isEvent('message.created', c.id), 5000);
    expect(s.frames.some((f) => f.type === 'event' && f.event.id === slow.id)).toBe(false);
  });
});

describe('resume', () => {
  it('replays exactly the events missed while the socket was down, then goes live', async () => {
    const s = await connect(a, { workspaceId: ws.workspaceId, cookie: agent.cookie });
    await s.next((f) => f.type === 'ready');
    const c = (await api.post('/conversations', newConversation())).json();
    await s.next(isEvent('message.created', c.id));
    const lastEventId = s.frames.filter((f) => f.type === 'event').at(-1).event.id;
    s.ws.terminate();
    await s.closed;

    const missed: string[] = [];
    for (let i = 0; i < 3; i++) missed.push((await api.post(`/conversations/${c.id}/messages`, { type: 'note', body: `while away ${i}` })).json().id);
    await eventually(async () => Number(realtimeB.hubFor(b.server).lastEventId) > Number(lastEventId) + 2);

    // Resume on the other instance: its cursor is as good there.
    const again = await connect(b, { workspaceId: ws.workspaceId, cookie: agent.cookie, lastEventId });
    const ready = await again.next((f) => f.type === 'ready');
    expect(ready.replayed).toBe(3);
    const replayed = again.frames.filter((f) => f.type === 'event');
    expect(replayed.map((f) => f.event.data.messageId)).toEqual(missed);
    expect(replayed.every((f) => Number(f.event.id) > Number(lastEventId))).toBe(true);
    const live = (await api.post(`/conversations/${c.id}/messages`, { type: 'note', body: 'back' })).json();
    await again.next((f) => f.type === 'event' && f.event.data.messageId === live.id);
    expect(again.frames.filter((f) => f.type === 'event')).toHaveLength(4);
  });

  it('says reset when more events were missed than it replays', async () => {
    const s = await connect(a, { workspaceId: ws.workspaceId, cookie: agent.cookie });
    const ready = await s.next((f) => f.type === 'ready');
    s.ws.terminate();
    const c = (await api.post('/conversations', newConversation())).json();
    for (let i = 0; i < 5; i++) await api.post(`/conversations/${c.id}/messages`, { type: 'note', body: `${i}` });
    const { rows } = await a.pool.query("select set_config('app.system', 'on', true), (select max(id) from events) as max");
    await eventually(async () => Number(realtimeA.hubFor(a.server).lastEventId) >= Number(rows[0].max));
    const again = await connect(a, { workspaceId: ws.workspaceId, cookie: agent.cookie, lastEventId: ready.lastEventId });
    await again.next((f) => f.type === 'ready');
    expect(again.frames.map((f) => f.type)).toEqual(['reset', 'ready']);
  });
});

describe('presence', () => {
  it('shows two agents on two instances in the same conversation, typing, and leaving', async () => {
    const c = (await api.post('/conversations', newConversation())).json();
    const alice = await connect(a, { workspaceId: ws.workspaceId, cookie: agent.cookie });
    const bob = await connect(b, { workspaceId: ws.workspaceId, cookie: agent2.cookie });
    await alice.next((f) => f.type === 'ready');
    await bob.next((f) => f.type === 'ready');
    alice.send({ type: 'view', conversationId: c.id });
    await alice.next((f) => f.type === 'presence' && f.conversationId === c.id && f.viewers.length === 1);
    bob.send({ type: 'view', conversationId: c.id });
    const both = (f: any) => f.type === 'presence' && f.conversationId === c.id && f.viewers.length === 2;
    const seenByAlice = await alice.next(both);
    await bob.next(both);
    expect(seenByAlice.viewers).toEqual([
      { userId: agent.id, name: 'Alice', typing: false },
      { userId: agent2.id, name: 'Bob', typing: false },
    ]);

    bob.send({ type: 'typing', conversationId: c.id, typing: true });
    await alice.next((f) => f.type === 'presence' && f.viewers.some((v: any) => v.userId === agent2.id && v.typing));
    bob.send({ type: 'typing', conversationId: c.id, typing: false });
    await alice.next((f) => f.type === 'presence' && f.viewers.length === 2 && f.viewers.every((v: any) => !v.typing));

    bob.ws.terminate();
    await alice.next((f) => f.type === 'presence' && f.conversationId === c.id && f.viewers.length === 1 && f.viewers[0].userId === agent.id);
  });

  it('refuses typing where the socket is not viewing, and viewing a conversation of another workspace', async () => {
    const other = await createTestWorkspace(a);
    const foreign = (await client(a, other.token, other.workspaceId).post('/conversations', newConversation())).json();
    const s = await connect(a, { workspaceId: ws.workspaceId, cookie: agent.cookie });
    await s.next((f) => f.type === 'ready');
    s.send({ type: 'typing', conversationId: foreign.id, typing: true });
    expect(await s.next((f) => f.type === 'error')).toEqual({ type: 'error', code: 'realtime.not_viewing' });
    s.send({ type: 'view', conversationId: foreign.id });
    expect(await s.next((f) => f.type === 'error')).toEqual({ type: 'error', code: 'conversations.not_found' });
    s.send({ type: 'ping' });
    await s.next((f) => f.type === 'pong');
    expect(s.frames.some((f) => f.type === 'presence')).toBe(false);
  });
});

describe('who may connect (SECURITY C4, T1)', () => {
  it('refuses another Origin, and a cookie without an Origin, before upgrading', async () => {
    await expect(openSocket(a.url, { workspaceId: ws.workspaceId, cookie: agent.cookie, origin: 'http://evil.example' })).rejects.toMatchObject({ status: 403 });
    await expect(openSocket(a.url, { workspaceId: ws.workspaceId, cookie: agent.cookie, origin: a.url.replace('127.0.0.1', 'localhost') })).rejects.toMatchObject({ status: 403 });
    await expect(openSocket(a.url, { workspaceId: ws.workspaceId, cookie: agent.cookie, origin: null })).rejects.toMatchObject({ status: 403 });
  });

  it('closes with 4401 without a session, and 4404 for another workspace, a missing one or a malformed id alike', async () => {
    const anon = await connect(a, { workspaceId: ws.workspaceId });
    expect((await anon.closed).code).toBe(4401);
    const other = await createTestWorkspace(a);
    for (const workspaceId of [other.workspaceId, '00000000-0000-4000-8000-000000000000', 'not-a-uuid']) {
      const s = await connect(a, { workspaceId, cookie: agent.cookie });
      expect((await s.closed).code).toBe(4404);
    }
    // A token of another workspace is refused the same way.
    const t = await connect(a, { workspaceId: ws.workspaceId, token: other.token, origin: null });
    expect((await t.closed).code).toBe(4404);
  });

  it("never sends one workspace's events to another's sockets", async () => {
    const other = await createTestWorkspace(a);
    const otherSocket = await connect(b, { workspaceId: other.workspaceId, cookie: (await signIn(a, other.owner.email, other.owner.password)).cookie });
    await otherSocket.next((f) => f.type === 'ready');
    const mine = (await api.post('/conversations', newConversation())).json();
    await api.post(`/conversations/${mine.id}/messages`, { type: 'note', body: 'secret' });
    // Events go out in id order: once the other workspace's own event arrived, ours would have come first.
    const theirs = (await client(a, other.token, other.workspaceId).post('/conversations', newConversation())).json();
    await otherSocket.next(isEvent('message.created', theirs.id));
    const ids = otherSocket.frames.filter((f) => f.type === 'event').map((f) => f.event.id);
    expect(otherSocket.frames.some((f) => f.type === 'event' && f.event.conversationId === mine.id)).toBe(false);
    const { rows } = await a.pool.query("select set_config('app.system', 'on', true), (select count(*)::int from events where id = any($1::bigint[]) and workspace_id = $2) as n", [
      ids,
      other.workspaceId,
    ]);
    expect(rows[0].n).toBe(ids.length);
  });

  it('closes the socket of a member whose session ended, at the next heartbeat', async () => {
    const m = await addTestMember(a, ws, 'agent', 'Leaving');
    const session = await signIn(a, m.email, m.password);
    const s = await connect(a, { workspaceId: ws.workspaceId, cookie: session.cookie });
    await s.next((f) => f.type === 'ready');
    const res = await a.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: { cookie: session.cookie, 'x-csrf-token': session.csrfToken } });
    expect(res.statusCode).toBe(204);
    expect((await s.closed).code).toBe(4401);
  });
});

describe('membership changes', () => {
  it('closes the socket of a member removed from the workspace with 4404, at the next heartbeat', async () => {
    const m = await addTestMember(a, ws, 'agent', 'Removed');
    const session = await signIn(a, m.email, m.password);
    const s = await connect(a, { workspaceId: ws.workspaceId, cookie: session.cookie });
    await s.next((f) => f.type === 'ready');
    expect((await api.delete(`/users/${m.id}`)).statusCode).toBe(204);
    expect((await s.closed).code).toBe(4404);
    const again = await connect(a, { workspaceId: ws.workspaceId, cookie: session.cookie });
    expect((await again.closed).code).toBe(4404);
  });
});

describe('bad frames (SECURITY C5)', () => {
  const healthy = async (server: TestServer) => {
    expect((await server.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    const s = await connect(server, { workspaceId: ws.workspaceId, cookie: agent.cookie });
    s.send({ type: 'ping' });
    await s.next((f) => f.type === 'pong');
  };

  it('answers a JSON frame of the wrong shape, and closes on a frame that is not JSON', async () => {
    const s = await connect(a, { workspaceId: ws.workspaceId, cookie: agent.cookie });
    await s.next((f) => f.type === 'ready');
    s.send({ type: 'subscribe', channel: 'workspace:*' });
    expect(await s.next((f) => f.type === 'error')).toEqual({ type: 'error', code: 'realtime.bad_frame' });
    s.send('this is not json {');
    expect((await s.closed).code).toBe(1007);
    await healthy(a);
  });

  it('closes on a 10 MB frame', async () => {
    const s = await connect(a, { workspaceId: ws.workspaceId, cookie: agent.cookie });
    await s.next((f) => f.type === 'ready');
    s.ws.send('x'.repeat(10 * 1024 * 1024));
    expect((await s.closed).code).toBe(1009);
    await healthy(a);
  });

  it('closes a connection that floods it with 1,000 frames', async () => {
    const s = await connect(a, { workspaceId: ws.workspaceId, cookie: agent.cookie });
    await s.next((f) => f.type === 'ready');
    for (let i = 0; i < 1000; i++) s.send({ type: 'ping' });
    expect((await s.closed).code).toBe(4429);
    expect(s.frames.filter((f) => f.type === 'pong').length).toBeLessThan(100);
    await healthy(a);
  });

  it('drops a socket that stops answering pings', async () => {
    const hub = realtimeA.hubFor(a.server);
    const s = await connect(a, { workspaceId: ws.workspaceId, cookie: agent.cookie });
    await s.next((f) => f.type === 'ready');
    const before = hub.size;
    // A client that stops reading: pings go unanswered.
    (s.ws as unknown as { _socket: import('node:net').Socket })._socket.pause();
    await eventually(async () => hub.size === before - 1, 5000);
  });
});
