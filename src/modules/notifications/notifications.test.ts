import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withSystem, withWorkspace } from '../../db/tenancy.js';
import type { DomainEvent } from '../../events/events.types.js';
import { client, createTestWorkspace, eventually, signIn, startWithMailRelay, startWithWorkspace, type TestServer, type TestWorkspace } from '../../../test/helpers.js';
import type { Role } from '../auth/roles.js';
import { ingestInbound } from '../conversations/conversations.channels.js';
import { addMember } from '../workspaces/workspaces.service.js';
import { openSocket } from '../realtime/realtime.test-client.js';
import type { NotificationView } from './notifications.schemas.js';
import { mentionedIn } from './notifications.mentions.js';
import { changeRole } from '../members/members.service.js';
import { systemMailerFrom } from '../../lib/system-mail.js';
import { emailNotification, notifyOf } from './notifications.service.js';

let rapport: TestServer;
let ws: TestWorkspace;
let sink: Awaited<ReturnType<typeof startWithMailRelay>>['sink'];
let stop: () => Promise<void>;

let people = 0;
type Person = Awaited<ReturnType<typeof person>>;

/** A member signed in through the API: their own cookie, so "me" is them. */
async function person(w: TestWorkspace, role: Role, name: string) {
  const email = `${name.toLowerCase().replace(/\W+/g, '.')}.${++people}@example.test`;
  const deps = { pool: rapport.pool, clock: rapport.server.clock, workspaceId: w.workspaceId, actor: { type: 'user' as const, id: w.owner.id } };
  const m = { ...(await addMember(deps, 'owner', { email, name, role, password: 'another long password' })), email, password: 'another long password' };
  const s = await signIn(rapport, m.email, m.password);
  const call = (method: 'GET' | 'POST' | 'PATCH' | 'PUT', path: string, body?: unknown): Promise<LightMyRequestResponse> =>
    rapport.app.inject({
      method,
      url: `/api/v1/workspaces/${w.workspaceId}${path}`,
      headers: { cookie: s.cookie, 'x-csrf-token': s.csrfToken, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
    });
  return { id: m.id, email: m.email, name, call, cookie: s.cookie };
}

const admin = () => client(rapport, ws.token, ws.workspaceId);
let n = 0;
async function conversation(assigneeId?: string) {
  const c = (await admin().post('/conversations', { customer: { email: `cust${++n}@customer.test`, name: 'Bob Customer' }, subject: `Order ${n}`, message: { body: 'Where is my order?' } })).json();
  if (assigneeId) expect((await admin().patch(`/conversations/${c.id}`, { assigneeId })).statusCode).toBe(200);
  return c as { id: string; number: number; customer: { id: string } };
}
const note = async (who: Person, conversationId: string, body: string) => expect((await who.call('POST', `/conversations/${conversationId}/messages`, { type: 'note', body })).statusCode).toBe(201);
const mine = async (who: Person) => (await who.call('GET', '/notifications')).json() as { items: NotificationView[]; unread: number; nextCursor: string | null };

/** Waits until every event so far was handled by the subscriber: the dispatcher's jobs are done. */
async function settled() {
  await eventually(async () => {
    const { rows } = await withSystem(rapport.pool, (tx) =>
      tx.query<{ n: number }>(
        "select (select count(*) from events where dispatched_at is null)::int + (select count(*) from graphile_worker.jobs where task_identifier <> 'notifications.email')::int as n",
      ),
    );
    return rows[0].n === 0;
  }, 20_000);
}

beforeAll(async () => {
  ({ rapport, ws, sink, stop } = await startWithMailRelay());
}, 60_000);
afterAll(async () => stop?.());

describe('mentions in a note', () => {
  const members = [
    { id: 'ana', name: 'Ana', email: 'ana@x.test' },
    { id: 'ana-lopez', name: 'Ana Lopez', email: 'alopez@x.test' },
    { id: 'bob', name: 'Bob Stone', email: 'bob.stone@x.test' },
  ];
  it('finds members by name or email local part, the longest name at each @, never inside an address', () => {
    expect(mentionedIn('@Ana Lopez please look', members)).toEqual(['ana-lopez']);
    expect(mentionedIn('cc @ana, and @bob.stone.', members)).toEqual(['ana', 'bob']);
    expect(mentionedIn('write to someone@ana.test or @anabel or @alopezz', members)).toEqual([]);
    expect(mentionedIn('(@BOB STONE)', members)).toEqual(['bob']);
    expect(mentionedIn('@bob.stone-jr', members)).toEqual([]);
  });
});

describe('notifications', () => {
  let ana: Person;
  let bob: Person;

  beforeAll(async () => {
    ana = await person(ws, 'agent', 'Ana Lopez');
    bob = await person(ws, 'agent', 'Bob Stone');
  });

  it('tells the agent a conversation was assigned to, but not someone who assigns themselves', async () => {
    const c = await conversation();
    expect((await ana.call('PATCH', `/conversations/${c.id}`, { assigneeId: bob.id })).statusCode).toBe(200);
    const d = await conversation();
    expect((await ana.call('PATCH', `/conversations/${d.id}`, { assigneeId: ana.id })).statusCode).toBe(200);
    await settled();
    const got = (await mine(bob)).items.filter((x) => x.conversationId === c.id);
    expect(got).toEqual([
      expect.objectContaining({ kind: 'assigned', conversationNumber: c.number, actor: { type: 'user', id: ana.id, name: 'Ana Lopez' }, excerpt: expect.stringMatching(/^Order \d+$/), readAt: null }),
    ]);
    expect((await mine(ana)).items.filter((x) => x.conversationId === d.id)).toEqual([]);
  });

  it('tells the assignee of a customer reply, and nobody when the conversation has no assignee', async () => {
    const c = await conversation(bob.id);
    const loose = await conversation();
    const deps = { pool: rapport.pool, clock: rapport.server.clock, workspaceId: ws.workspaceId, actor: { type: 'customer' as const, id: c.customer.id } };
    for (const [id, customerId] of [
      [c.id, c.customer.id],
      [loose.id, loose.customer.id],
    ]) {
      await withWorkspace(rapport.pool, ws.workspaceId, (tx) =>
        ingestInbound(
          tx,
          { ...deps, actor: { type: 'customer', id: customerId } },
          { inboxId: ws.inboxId, customer: { customerId }, thread: { conversationId: id }, body: 'Any news?\nThanks', at: new Date() },
        ),
      );
    }
    await settled();
    const items = (await mine(bob)).items;
    expect(items.filter((x) => x.conversationId === c.id && x.kind === 'customer_replied')).toEqual([
      expect.objectContaining({ actor: { type: 'customer', id: c.customer.id, name: 'Bob Customer' }, excerpt: 'Any news? Thanks' }),
    ]);
    expect(items.filter((x) => x.conversationId === loose.id)).toEqual([]);
  });

  it('tells members a note mentions, never its author, a client viewer or a member of another workspace', async () => {
    const viewer = await person(ws, 'client_viewer', 'Vera Viewer');
    const other = await createTestWorkspace(rapport);
    const stranger = await person(other, 'agent', 'Sam Stranger');
    const c = await conversation();
    await note(ana, c.id, '@Bob Stone can you check? cc @Ana Lopez @Vera Viewer @Sam Stranger');
    await settled();
    expect((await mine(bob)).items.filter((x) => x.conversationId === c.id)).toEqual([
      expect.objectContaining({ kind: 'mentioned', actor: expect.objectContaining({ id: ana.id, name: 'Ana Lopez' }), excerpt: expect.stringContaining('@Bob Stone can you check?') }),
    ]);
    expect((await mine(ana)).items.filter((x) => x.conversationId === c.id)).toEqual([]);
    // A client viewer has no notifications at all; the stranger's own workspace has none of this.
    expect((await viewer.call('GET', '/notifications')).statusCode).toBe(403);
    expect((await mine(stranger)).items).toEqual([]);
  });

  it('writes one notification per person and event, however often the event is delivered', async () => {
    const c = await conversation();
    await note(ana, c.id, `over to you @${bob.email.split('@')[0]}.`);
    await settled();
    const { rows } = await withSystem(rapport.pool, (tx) =>
      tx.query<{ id: string; data: { messageId: string; messageType: 'note' }; actor_id: string; created_at: Date }>(
        "select id, data, actor_id, created_at from events where conversation_id = $1 and type = 'message.created' and data->>'messageType' = 'note'",
        [c.id],
      ),
    );
    const event = {
      id: String(rows[0].id),
      workspaceId: ws.workspaceId,
      conversationId: c.id,
      type: 'message.created',
      actor: { type: 'user', id: rows[0].actor_id },
      data: rows[0].data,
      createdAt: rows[0].created_at,
    } as DomainEvent<'message.created'>;
    const deps = { pool: rapport.pool, clock: rapport.server.clock, log: rapport.server.log, emailAvailable: true };
    expect((await mine(bob)).items.filter((x) => x.conversationId === c.id)).toHaveLength(1);
    expect(await notifyOf(deps, event)).toBe(0);
    expect(await notifyOf(deps, event)).toBe(0);
    expect((await mine(bob)).items.filter((x) => x.conversationId === c.id)).toHaveLength(1);
  });

  it('marks one or all read; another member’s or another workspace’s id answers 404 like a missing one', async () => {
    const c = await conversation();
    await note(ana, c.id, '@Bob Stone one');
    await note(ana, c.id, '@Bob Stone two');
    await settled();
    const before = await mine(bob);
    const [first] = before.items.filter((x) => x.conversationId === c.id);
    expect((await ana.call('POST', `/notifications/${first.id}/read`)).json().code).toBe('notifications.not_found');
    const outsider = client(rapport, (await createTestWorkspace(rapport)).token, ws.workspaceId);
    expect((await outsider.post(`/notifications/${first.id}/read`, {})).statusCode).toBe(404);
    const read = (await bob.call('POST', `/notifications/${first.id}/read`)).json();
    expect(read).toMatchObject({ id: first.id, readAt: expect.any(String) });
    expect((await bob.call('GET', '/notifications/unread-count')).json()).toEqual({ unread: before.unread - 1 });
    expect((await bob.call('GET', '/notifications?unread=true')).json().items.map((x: { id: string }) => x.id)).not.toContain(first.id);
    expect((await bob.call('POST', '/notifications/read-all', {})).json()).toEqual({ marked: before.unread - 1, unread: 0 });
  });

  it('marks read only what is about one conversation when asked (the agent opened it)', async () => {
    const [c, d] = [await conversation(), await conversation()];
    await note(ana, c.id, '@Bob Stone here');
    await note(ana, d.id, '@Bob Stone there');
    await settled();
    const res = await bob.call('POST', '/notifications/read-all', { conversationId: c.id });
    expect(res.json()).toMatchObject({ marked: 1 });
    const items = (await mine(bob)).items;
    expect(items.find((x) => x.conversationId === c.id)?.readAt).toEqual(expect.any(String));
    expect(items.find((x) => x.conversationId === d.id)?.readAt).toBeNull();
  });

  it('pages newest first with a cursor', async () => {
    const c = await conversation();
    for (const i of [1, 2, 3]) await note(ana, c.id, `@Bob Stone page ${i}`);
    await settled();
    const one = (await bob.call('GET', '/notifications?limit=2')).json();
    expect(one.items).toHaveLength(2);
    const two = (await bob.call('GET', `/notifications?limit=2&cursor=${one.nextCursor}`)).json();
    expect(two.items[0].createdAt <= one.items[1].createdAt).toBe(true);
    expect(new Set([...one.items, ...two.items].map((x: { id: string }) => x.id)).size).toBe(one.items.length + two.items.length);
    expect((await bob.call('GET', '/notifications?cursor=bm90YWN1cnNvcg')).statusCode).toBe(422);
  });

  it('refuses API tokens: notifications belong to people', async () => {
    const res = await admin().get('/notifications');
    expect([res.statusCode, res.json().code]).toEqual([403, 'notifications.people_only']);
  });

  it('emails a kind the person chose, through the system relay, and not the kinds they did not', async () => {
    expect((await bob.call('GET', '/notification-preferences')).json()).toEqual({
      email: { assigned: false, customer_replied: false, mentioned: false, delivery_failed: false },
      emailAvailable: true,
    });
    const prefs = await bob.call('PUT', '/notification-preferences', { email: { assigned: false, customer_replied: false, mentioned: true } });
    expect(prefs.json()).toEqual({ email: { assigned: false, customer_replied: false, mentioned: true, delivery_failed: false }, emailAvailable: true });
    const c = await conversation();
    expect((await ana.call('PATCH', `/conversations/${c.id}`, { assigneeId: bob.id })).statusCode).toBe(200);
    await note(ana, c.id, 'urgent: @Bob Stone <script>alert(1)</script>');
    const mail = await eventually(async () => sink.received.find((m) => m.to.includes(bob.email)), 20_000);
    expect(mail.raw).toContain(`Subject: Ana Lopez mentioned you in #${c.number}`);
    expect(mail.raw.replace(/=\r?\n/g, '')).toContain(`/w/${ws.workspaceId}/v/all/c/${c.id}`);
    // Once the mention's mail is in, the earlier assignment (no email chosen) sent none.
    await settled();
    await eventually(async () => (await rapport.pool.query("select 1 from graphile_worker.jobs where task_identifier = 'notifications.email'")).rowCount === 0, 20_000);
    expect(sink.received.filter((m) => m.to.includes(bob.email))).toHaveLength(1);
  });

  it('emails no one who became a client viewer before the email job ran: the mention quotes an internal note', async () => {
    const cleo = await person(ws, 'agent', 'Cleo Marsh');
    const c = await conversation();
    await note(ana, c.id, 'refund code 7731 is internal, @Cleo Marsh please check');
    await settled();
    const [mention] = (await mine(cleo)).items.filter((x) => x.conversationId === c.id);
    expect(mention.kind).toBe('mentioned');
    const ownerDeps = { pool: rapport.pool, clock: rapport.server.clock, workspaceId: ws.workspaceId, actor: { type: 'user' as const, id: ws.owner.id } };
    await changeRole(ownerDeps, 'owner', cleo.id, 'client_viewer');
    // The job as it runs after a retry's backoff: the real relay, this notification.
    const url = 'http://rapport.test';
    const outcome = await emailNotification({ pool: rapport.pool, clock: rapport.server.clock, mailer: systemMailerFrom(rapport.server.config, url), publicUrl: url }, ws.workspaceId, mention.id);
    expect(outcome).toBe('skipped');
    expect(sink.received.filter((m) => m.to.includes(cleo.email))).toHaveLength(0);
  });
});

describe('live notifications', () => {
  it("reach only their member's sockets, live and replayed: not another agent's, not an API token's", async () => {
    const ana = await person(ws, 'agent', 'Ana Live');
    const bob = await person(ws, 'agent', 'Bob Live');
    const c = await conversation();
    const open = (p: { cookie?: string; token?: string }, lastEventId?: string) => openSocket(rapport.url, { workspaceId: ws.workspaceId, ...p, lastEventId });
    const [bobSocket, anaSocket, tokenSocket] = await Promise.all([open({ cookie: bob.cookie }), open({ cookie: ana.cookie }), open({ token: ws.token })]);
    const ready = await Promise.all([bobSocket, anaSocket, tokenSocket].map((s) => s.next((f) => f.type === 'ready')));
    await note(ana, c.id, '@Bob Live have a look');
    const live = await bobSocket.next((f) => f.type === 'event' && f.event.type === 'notification.created');
    expect(live.event.data).toMatchObject({ userId: bob.id, kind: 'mentioned', conversationId: c.id });
    // A later event both others see: had the notification reached them, it would have come first.
    await note(ana, c.id, 'a later note');
    for (const s of [anaSocket, tokenSocket]) {
      await s.next((f) => f.type === 'event' && f.event.type === 'message.created' && f.event.data.messageType === 'note' && Number(f.event.id) > Number(live.event.id));
      expect(s.frames.filter((f) => f.event?.type?.startsWith('notification.'))).toEqual([]);
    }
    // Resumed from before it: replayed to Bob, not to Ana.
    const [bobAgain, anaAgain] = await Promise.all([open({ cookie: bob.cookie }, ready[0].lastEventId), open({ cookie: ana.cookie }, ready[1].lastEventId)]);
    await bobAgain.next((f) => f.type === 'event' && f.event.type === 'notification.created' && f.event.id === live.event.id);
    await anaAgain.next((f) => f.type === 'ready');
    expect(anaAgain.frames.filter((f) => f.event?.type?.startsWith('notification.'))).toEqual([]);
    expect(anaAgain.frames.some((f) => f.event?.type === 'message.created')).toBe(true);
    for (const s of [bobSocket, anaSocket, tokenSocket, bobAgain, anaAgain]) s.close();
  });
});

describe('without a mail relay', () => {
  it('keeps email choices but says email is unavailable, and queues no email', async () => {
    const { rapport: bare, ws: w } = await startWithWorkspace();
    try {
      const m = await addMember({ pool: bare.pool, clock: bare.server.clock, workspaceId: w.workspaceId, actor: { type: 'user', id: w.owner.id } }, 'owner', {
        email: 'solo@example.test',
        name: 'Solo Agent',
        role: 'agent',
        password: 'another long password',
      });
      const s = await signIn(bare, 'solo@example.test', 'another long password');
      const put = await bare.app.inject({
        method: 'PUT',
        url: `/api/v1/workspaces/${w.workspaceId}/notification-preferences`,
        headers: { cookie: s.cookie, 'x-csrf-token': s.csrfToken, 'content-type': 'application/json' },
        payload: JSON.stringify({ email: { assigned: true, customer_replied: true, mentioned: true } }),
      });
      expect(put.json()).toEqual({ email: { assigned: true, customer_replied: true, mentioned: true, delivery_failed: false }, emailAvailable: false });
      const api = client(bare, w.token, w.workspaceId);
      const c = (await api.post('/conversations', { customer: { email: 'x@customer.test' }, message: { body: 'hi' } })).json();
      expect((await api.patch(`/conversations/${c.id}`, { assigneeId: m.id })).statusCode).toBe(200);
      const made = await eventually(async () => {
        const list = await bare.app.inject({ method: 'GET', url: `/api/v1/workspaces/${w.workspaceId}/notifications`, headers: { cookie: s.cookie } });
        return list.json().items.length === 1;
      });
      expect(made).toBe(true);
      const { rowCount } = await bare.pool.query("select 1 from graphile_worker.jobs where task_identifier = 'notifications.email'");
      expect(rowCount).toBe(0);
    } finally {
      await bare.stop();
    }
  });
});
