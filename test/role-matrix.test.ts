import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLES, atLeast, type Role } from '../src/modules/auth/roles.js';
import { withWorkspace } from '../src/db/tenancy.js';
import { ingestInbound } from '../src/modules/conversations/conversations.channels.js';
import { toMessageView } from '../src/modules/conversations/conversations.repository.js';
import { addTestMember, client, createTestWorkspace, signIn, startTestServer, tokenFor, type TestServer, type TestWorkspace } from './helpers.js';

/**
 * The role matrix (issue #9, SECURITY T1 and C4 for REST): every operation of the OpenAPI document
 * under /api/v1/workspaces/{workspaceId} is called by each role, by another workspace's token and by
 * nobody. The least role comes from the document itself (`x-min-role`, set where the server enforces
 * it: http/auth.ts), so a route added tomorrow is walked without touching this file. Then every read
 * a client viewer may make is made with real ids, and none may hold an internal note or an agent's
 * email address planted in the data.
 */

const WS_PREFIX = '/api/v1/workspaces/{workspaceId}';
const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

/** Operations outside a workspace: no role applies (signing in, accepting an invitation, ...). A new one must be added here on purpose. */
const OUTSIDE_A_WORKSPACE = new Set([
  'POST /api/v1/auth/login',
  'GET /api/v1/auth/session',
  'POST /api/v1/auth/logout',
  'GET /api/v1/auth/capabilities',
  'POST /api/v1/auth/alerts/{id}/dismiss',
  'POST /api/v1/auth/password-resets',
  'POST /api/v1/auth/password-resets/accept',
  // The signed-in person's own profile (a session only; a token answers 403, nobody 401: auth.profile.test.ts).
  'PATCH /api/v1/me',
  'POST /api/v1/me/password',
  'GET /api/v1/workspaces',
  'POST /api/v1/workspaces',
  'POST /api/v1/invitations/accept',
  'POST /api/v1/invitations/preview',
  'POST /api/v1/email/confirmations/preview',
  'POST /api/v1/email/confirmations/accept',
  // A channel provider's callback: no one signs in; the channel's signature over the body is the proof.
  'POST /api/v1/channels/{kind}/webhooks/{inboxId}',
]);

interface Operation {
  method: (typeof METHODS)[number];
  path: string;
  minRole: Role;
}

let rapport: TestServer;
let ws: TestWorkspace;
let other: TestWorkspace;
let operations: Operation[];
type Caller = { headers: Record<string, string> };
const callers = new Map<Role | 'outsider' | 'nobody', Caller>();
const planted = { note: `zebracanary${randomBytes(6).toString('hex')}`, emails: [] as string[], emailDetails: [] as string[] };
const ids: Record<string, string> = {};

async function call(who: Caller, method: string, url: string, body?: unknown) {
  const write = method !== 'get';
  return rapport.app.inject({
    method: method.toUpperCase() as 'GET',
    url,
    headers: { ...who.headers, ...(write ? { 'content-type': 'application/json' } : {}) },
    ...(write && method !== 'delete' ? { payload: JSON.stringify(body ?? {}) } : {}),
  });
}

/** The URL of an operation with its path parameters filled: real ids of seeded rows, or fresh random ones. */
function urlOf(op: Operation, real: boolean): string {
  return op.path.replace(/\{(\w+)\}/g, (_m, name: string, offset: number) => {
    if (name === 'workspaceId') return ws.workspaceId;
    if (!real) return randomUUID();
    // `{id}` is the id of the collection it follows: /conversations/{id}, /macros/{id}, ...
    const key = name === 'id' ? op.path.slice(0, offset).split('/').filter(Boolean).pop()! : name;
    return ids[key] ?? randomUUID();
  });
}

beforeAll(async () => {
  rapport = await startTestServer();
  ws = await createTestWorkspace(rapport);
  other = await createTestWorkspace(rapport);
  const owner = await signIn(rapport, ws.owner.email, ws.owner.password);
  callers.set('owner', { headers: { cookie: owner.cookie, 'x-csrf-token': owner.csrfToken } });
  for (const role of ROLES) if (role !== 'owner') callers.set(role, { headers: { authorization: `Bearer ${await tokenFor(rapport, ws, role)}` } });
  callers.set('outsider', { headers: { authorization: `Bearer ${other.token}` } });
  callers.set('nobody', { headers: {} });

  // The data a client viewer reads: a conversation with a reply and an internal note, a macro, a team.
  const admin = client(rapport, ws.token, ws.workspaceId);
  const agent = await addTestMember(rapport, ws, 'agent', 'Agent Smith');
  planted.emails.push(agent.email, ws.owner.email);
  const c = (await admin.post('/conversations', { customer: { email: 'pat@customer.test', name: 'Pat' }, subject: 'Broken mug', message: { body: 'my mug broke' } })).json();
  expect((await admin.post(`/conversations/${c.id}/messages`, { type: 'reply', body: 'we send a new one' })).statusCode).toBe(201);
  const note = await admin.post(`/conversations/${c.id}/messages`, { type: 'note', body: `internal: ${planted.note} refund abuse suspected` });
  expect(note.statusCode).toBe(201);
  // An email from the customer: its metadata.email (addresses, Message-ID, headers) is agents' material.
  const mark = randomBytes(6).toString('hex');
  const details = { to: `support-${mark}@help.test`, cc: `partner-${mark}@partner.test`, messageId: `<${mark}@mail.customer.test>` };
  planted.emailDetails.push(details.to, details.cc, details.messageId);
  await withWorkspace(rapport.pool, ws.workspaceId, (tx) =>
    ingestInbound(
      tx,
      { pool: rapport.pool, clock: rapport.server.clock, workspaceId: ws.workspaceId, actor: { type: 'system', id: null } },
      {
        inboxId: ws.inboxId,
        customer: { customerId: c.customer.id },
        thread: { conversationId: c.id },
        body: 'the mug again',
        at: new Date(),
        metadata: {
          email: {
            messageId: details.messageId,
            from: { name: 'Pat', address: 'pat@customer.test' },
            to: [{ name: '', address: details.to }],
            cc: [{ name: '', address: details.cc }],
            subject: 'Broken mug',
            attachments: [],
            parse: 'parsed',
            rawAvailable: true,
          },
        },
      },
    ),
  );
  // The customer's internal note (agents only, 0420) holds the same planted word.
  expect((await admin.patch(`/customers/${c.customer.id}`, { notes: `internal: ${planted.note} chargeback risk` })).statusCode).toBe(200);
  const macro = (await admin.post('/macros', { name: 'Thanks', body: 'Thank you' })).json();
  const team = (await admin.post('/teams', { name: 'Tier 1' })).json();
  Object.assign(ids, {
    conversations: c.id,
    customers: c.customer.id,
    inboxes: ws.inboxId,
    macros: macro.id,
    macroId: macro.id,
    teams: team.id,
    users: agent.id,
    messageId: note.json().id,
  });

  const doc = rapport.app.swagger() as { paths: Record<string, Record<string, { 'x-min-role'?: Role }>> };
  operations = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      if (!path.startsWith(WS_PREFIX)) {
        expect(OUTSIDE_A_WORKSPACE.has(`${method.toUpperCase()} ${path}`), `${method.toUpperCase()} ${path} is outside a workspace: list it above or move it`).toBe(true);
        continue;
      }
      expect(op['x-min-role'], `${method} ${path} declares its least role`).toBeDefined();
      operations.push({ method, path, minRole: op['x-min-role']! });
    }
  }
}, 120_000);

afterAll(async () => {
  await rapport?.stop();
});

describe('the role matrix', () => {
  it('covers the routes that matter (the enumeration found them)', () => {
    const names = operations.map((o) => `${o.method.toUpperCase()} ${o.path.slice(WS_PREFIX.length)}`);
    for (const expected of [
      'GET /conversations/{id}/messages',
      'GET /conversations/{id}/events',
      'POST /conversations/{id}/messages',
      'POST /conversations/{id}/messages/{messageId}/retry-delivery',
      'GET /tokens',
      'PATCH /users/{id}',
      'GET /search',
      'GET /notifications',
      'POST /notifications/{id}/read',
      'PUT /notification-preferences',
      'POST /conversations/bulk',
      'GET /saved-views',
      'PATCH /saved-views/{id}',
      'DELETE /saved-views/{id}',
      'POST /inboxes/{id}/email/smtp-test',
      'POST /inboxes/{id}/disable',
      'DELETE /inboxes/{id}',
    ]) {
      expect(names).toContain(expected);
    }
  });

  it('answers each role per the least role of the route: 403 below it, never 403 or 404-workspace at or above it', async () => {
    const failures: string[] = [];
    for (const op of operations) {
      for (const role of ROLES) {
        const res = await call(callers.get(role)!, op.method, urlOf(op, false));
        const code = String(res.headers['content-type'] ?? '').includes('json') ? (res.json() as { code?: string }).code : undefined;
        const label = `${role} ${op.method.toUpperCase()} ${op.path} (least role ${op.minRole}): ${res.statusCode} ${code ?? ''}`;
        if (!atLeast(role, op.minRole)) {
          if (res.statusCode !== 403 || code !== 'auth.forbidden') failures.push(label);
        } else if (res.statusCode >= 500 || res.statusCode === 401 || code === 'auth.forbidden' || code === 'workspaces.not_found') {
          failures.push(label);
        }
      }
    }
    expect(failures).toEqual([]);
  }, 120_000);

  it('answers another workspace’s token 404 and no credential 401, on every route', async () => {
    const failures: string[] = [];
    for (const op of operations) {
      const outsider = await call(callers.get('outsider')!, op.method, urlOf(op, true));
      if (outsider.statusCode !== 404 || outsider.json().code !== 'workspaces.not_found') failures.push(`outsider ${op.method} ${op.path}: ${outsider.statusCode}`);
      const nobody = await call(callers.get('nobody')!, op.method, urlOf(op, true));
      if (nobody.statusCode !== 401) failures.push(`nobody ${op.method} ${op.path}: ${nobody.statusCode}`);
    }
    expect(failures).toEqual([]);
  }, 120_000);
});

describe('what a client viewer reads', () => {
  const reads = () => operations.filter((o) => o.method === 'get' && atLeast('client_viewer', o.minRole));

  it("every read with real ids holds no internal note, no member email address and no email's addresses or headers", async () => {
    expect(reads().length).toBeGreaterThan(10);
    const viewer = callers.get('client_viewer')!;
    const agent = callers.get('agent')!;
    const leaks: string[] = [];
    let agentSawTheNote = false;
    let agentSawTheEmail = false;
    for (const op of reads()) {
      const url = urlOf(op, true);
      const res = await call(viewer, 'get', url);
      expect(res.statusCode, `${op.path}: ${res.body.slice(0, 200)}`).toBeLessThan(500);
      if (res.body.includes(planted.note)) leaks.push(`${op.path}: the note`);
      for (const email of planted.emails) if (res.body.toLowerCase().includes(email.toLowerCase())) leaks.push(`${op.path}: ${email}`);
      for (const detail of planted.emailDetails) if (res.body.includes(detail)) leaks.push(`${op.path}: metadata.email ${detail}`);
      const agentBody = (await call(agent, 'get', url)).body;
      if (agentBody.includes(planted.note)) agentSawTheNote = true;
      if (planted.emailDetails.every((d) => agentBody.includes(d))) agentSawTheEmail = true;
    }
    expect(leaks).toEqual([]);
    // The check can fail: the same reads show the note to an agent.
    expect(agentSawTheNote).toBe(true);
    expect(agentSawTheEmail).toBe(true);
  }, 120_000);

  it('finds nothing when searching for a word only a note holds, and counts no note', async () => {
    const viewer = client(rapport, callers.get('client_viewer')!.headers.authorization.slice(7), ws.workspaceId);
    const agent = client(rapport, callers.get('agent')!.headers.authorization.slice(7), ws.workspaceId);
    expect((await agent.get(`/conversations?q=${planted.note}`)).json().items.map((c: { id: string }) => c.id)).toEqual([ids.conversations]);
    expect((await viewer.get(`/conversations?q=${planted.note}`)).json().items).toEqual([]);
    // The global search: the agent finds and is quoted the note; the viewer neither (its words, its excerpt).
    const everything = (await agent.get(`/search?q=${planted.note}`)).json();
    expect(everything.conversations.items.map((c: { id: string; match: { snippet: string } }) => [c.id, c.match.snippet.includes(planted.note)])).toEqual([[ids.conversations, true]]);
    expect((await viewer.get(`/search?q=${planted.note}`)).json().conversations.items).toEqual([]);
    const mug = (await viewer.get('/search?q=mug')).json();
    expect(mug.conversations.items.map((c: { id: string }) => c.id)).toEqual([ids.conversations]);
    expect(JSON.stringify(mug)).not.toContain(planted.note);
    const asAgent = (await agent.get(`/conversations/${ids.conversations}`)).json();
    const asViewer = (await viewer.get(`/conversations/${ids.conversations}`)).json();
    // The first message, the reply, the customer's email and the note; a client viewer counts no note.
    expect([asAgent.messageCount, asViewer.messageCount]).toEqual([4, 3]);
    const listed = (await viewer.get('/conversations')).json().items.find((c: { id: string }) => c.id === ids.conversations);
    expect(listed.messageCount).toBe(3);
  });

  it('shows a client viewer activity times that a note does not move (conversation, list and customer), and a reply does', async () => {
    const admin = client(rapport, ws.token, ws.workspaceId);
    const viewer = client(rapport, callers.get('client_viewer')!.headers.authorization.slice(7), ws.workspaceId);
    const c = (await admin.post('/conversations', { customer: { email: 'times@customer.test' }, message: { body: 'first' } })).json();
    const seen = async () => {
      const one = (await viewer.get(`/conversations/${c.id}`)).json();
      const listed = (await viewer.get('/conversations')).json().items.find((x: { id: string }) => x.id === c.id);
      const ofCustomer = (await viewer.get(`/customers/${c.customer.id}`)).json().conversations.find((x: { id: string }) => x.id === c.id);
      return { lastActivityAt: one.lastActivityAt, updatedAt: one.updatedAt, listed: listed.lastActivityAt, ofCustomer: ofCustomer.lastActivityAt };
    };
    const before = await seen();
    expect([before.listed, before.ofCustomer]).toEqual([before.lastActivityAt, before.lastActivityAt]);
    const revision = (await admin.get(`/conversations/${c.id}`)).json().revision;
    const note = (await admin.post(`/conversations/${c.id}/messages`, { type: 'note', body: 'internal' })).json();
    // The check can fail: the agent's time and revision moved with the note.
    expect((await admin.get(`/conversations/${c.id}`)).json()).toMatchObject({ lastActivityAt: note.createdAt, revision: revision + 1 });
    // The revision (which a note raises) is an agent's only: a client viewer is not shown it.
    expect((await viewer.get(`/conversations/${c.id}`)).json()).not.toHaveProperty('revision');
    expect((await viewer.get('/conversations')).json().items.find((x: { id: string }) => x.id === c.id)).not.toHaveProperty('revision');
    expect(note.createdAt).not.toBe(before.lastActivityAt);
    expect(await seen()).toEqual(before);
    const reply = (await admin.post(`/conversations/${c.id}/messages`, { type: 'reply', body: 'public' })).json();
    expect(await seen()).toEqual({ lastActivityAt: reply.createdAt, updatedAt: reply.createdAt, listed: reply.createdAt, ofCustomer: reply.createdAt });
  });

  it("keeps a client viewer's list order and cursor still when a note is added, and moves an agent's", async () => {
    const admin = client(rapport, ws.token, ws.workspaceId);
    const viewer = client(rapport, callers.get('client_viewer')!.headers.authorization.slice(7), ws.workspaceId);
    const tag = `order${randomBytes(4).toString('hex')}`;
    const older = (await admin.post('/conversations', { customer: { email: 'older@customer.test' }, message: { body: 'first' }, tags: [tag] })).json();
    const newer = (await admin.post('/conversations', { customer: { email: 'newer@customer.test' }, message: { body: 'first' }, tags: [tag] })).json();
    // The plain list, one status (its index walk) and the tag view (conversation_tags): first row and cursor.
    const views = ['/conversations?limit=1', '/conversations?status=open&limit=1', `/conversations?tag=${tag}&limit=1`];
    const seen = async (who: typeof admin) =>
      Promise.all(
        views.map(async (url) => {
          const page = (await who.get(url)).json();
          return { first: page.items[0].id, cursor: JSON.parse(Buffer.from(page.nextCursor, 'base64').toString('utf8')) };
        }),
      );
    const [viewerBefore, agentBefore] = [await seen(viewer), await seen(admin)];
    expect(viewerBefore.map((v) => v.first)).toEqual([newer.id, newer.id, newer.id]);
    expect(agentBefore).toEqual(viewerBefore);
    const note = (await admin.post(`/conversations/${older.id}/messages`, { type: 'note', body: 'internal' })).json();
    expect(await seen(viewer)).toEqual(viewerBefore);
    // The check can fail: an agent's list moves the noted conversation first, and its cursor holds the note's time.
    const agentAfter = await seen(admin);
    expect(agentAfter.map((v) => v.first)).toEqual([older.id, older.id, older.id]);
    expect(agentAfter.map((v) => v.cursor)).not.toContainEqual(agentBefore[0].cursor);
    expect(note.createdAt > newer.createdAt).toBe(true);
    // And the viewer's next page goes on by public activity: the older conversation follows.
    for (const [i, url] of views.entries()) {
      const cursor = Buffer.from(JSON.stringify(viewerBefore[i].cursor)).toString('base64url');
      expect((await viewer.get(`${url}&cursor=${encodeURIComponent(cursor)}`)).json().items[0].id).toBe(older.id);
    }
  });

  it("shows a client viewer no delivery state and no channel's details in message metadata (only a block's attachments), and an agent all of it", () => {
    const row = {
      id: randomUUID(),
      conversation_id: randomUUID(),
      type: 'outbound' as const,
      author_type: 'user',
      author_id: null,
      author_name: null,
      kind: 'text' as const,
      body_text: 'hi',
      body_html: null,
      metadata: {
        delivery: { status: 'failed', reason: 'smtp 550' },
        email: { messageId: '<a@b>', from: { name: 'Pat', address: 'pat@x.test' }, cc: [{ name: '', address: 'c@x.test' }], delivery: { attempts: 3 }, attachments: [{ id: 'f', name: 'a.pdf' }] },
        sms: { providerId: 'p-1', recipient: '+15550100' },
        source: 'api',
      },
      created_at: new Date(),
    };
    expect(toMessageView(row, 'client').metadata).toEqual({ email: { attachments: [{ id: 'f', name: 'a.pdf' }] }, source: 'api' });
    expect(toMessageView(row).metadata).toEqual(row.metadata);
  });

  it('reads full pages of the thread and the timeline: notes are filtered in the query, not after paging', async () => {
    const admin = client(rapport, ws.token, ws.workspaceId);
    const c = (await admin.post('/conversations', { customer: { email: 'page@customer.test' }, message: { body: 'first' } })).json();
    for (let i = 0; i < 4; i++) {
      await admin.post(`/conversations/${c.id}/messages`, { type: 'note', body: `note ${i}` });
      await admin.post(`/conversations/${c.id}/messages`, { type: 'reply', body: `reply ${i}` });
    }
    const viewer = client(rapport, callers.get('client_viewer')!.headers.authorization.slice(7), ws.workspaceId);
    const page = (await viewer.get(`/conversations/${c.id}/messages?limit=3`)).json();
    expect(page.items.map((m: { type: string }) => m.type)).toEqual(['inbound', 'outbound', 'outbound']);
    const rest = (await viewer.get(`/conversations/${c.id}/messages?limit=3&cursor=${page.nextCursor}`)).json();
    expect(rest.items.map((m: { body: string }) => m.body)).toEqual(['reply 2', 'reply 3']);

    const events = (await viewer.get(`/conversations/${c.id}/events?limit=3`)).json();
    expect(events.items).toHaveLength(3);
    const all = [...events.items, ...(await viewer.get(`/conversations/${c.id}/events?cursor=${events.nextCursor}`)).json().items];
    expect(all.map((e: { data: { messageType?: string } }) => e.data.messageType ?? '-')).toEqual(['-', 'inbound', 'outbound', 'outbound', 'outbound', 'outbound']);
    const agentEvents = (await admin.get(`/conversations/${c.id}/events`)).json().items;
    expect(agentEvents.filter((e: { data: { messageType?: string } }) => e.data.messageType === 'note')).toHaveLength(4);
  });

  it('sees the members’ names and roles, not their email addresses', async () => {
    const viewer = client(rapport, callers.get('client_viewer')!.headers.authorization.slice(7), ws.workspaceId);
    const items = (await viewer.get('/users')).json().items;
    expect(items.length).toBeGreaterThan(1);
    for (const m of items) expect(m).not.toHaveProperty('email');
    expect((await client(rapport, ws.token, ws.workspaceId).get('/users')).json().items[0]).toHaveProperty('email');
  });
});
