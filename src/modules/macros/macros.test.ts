import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addTestMember, client, createTestWorkspace, signIn, startTestServer, tokenFor, type TestServer, type TestWorkspace } from '../../../test/helpers.js';
import { render } from './macros.template.js';

let rapport: TestServer;
let ws: TestWorkspace;
let admin: ReturnType<typeof client>;
let agent: ReturnType<typeof client>;

beforeAll(async () => {
  rapport = await startTestServer();
  ws = await createTestWorkspace(rapport);
  admin = client(rapport, ws.token, ws.workspaceId);
  agent = client(rapport, await tokenFor(rapport, ws, 'agent'), ws.workspaceId);
});
afterAll(async () => rapport?.stop());

const greeting = {
  name: 'Greeting',
  body: 'Hi {{customer.first_name | there}}, about #{{conversation.number}}: {{agent.name}} here.',
  actions: { status: 'pending', priority: 'high', addTags: ['Macro', 'greeted'] },
};

describe('managing macros', () => {
  it('lets an admin create, rename and delete a macro that everyone can list', async () => {
    const created = await admin.post('/macros', greeting);
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ name: 'Greeting', actions: { status: 'pending', priority: 'high', addTags: ['greeted', 'macro'] } });
    const id = created.json().id;
    const viewer = client(rapport, await tokenFor(rapport, ws, 'client_viewer'), ws.workspaceId);
    const list = (await viewer.get('/macros')).json();
    expect(list.items.map((m: { id: string }) => m.id)).toContain(id);
    expect(list.placeholders).toContain('customer.first_name');

    const renamed = await admin.patch(`/macros/${id}`, { name: 'Hello' });
    expect(renamed.json()).toMatchObject({ name: 'Hello', body: greeting.body });
    expect((await admin.delete(`/macros/${id}`)).statusCode).toBe(204);
    expect((await admin.delete(`/macros/${id}`)).statusCode).toBe(404);
    // Each change is an event (what realtime pushes to refresh open macro lists).
    const { rows } = await rapport.pool.query(
      "select set_config('app.system', 'on', true), (select array_agg(type order by id) from events where workspace_id = $1 and data->>'macroId' = $2) as types",
      [ws.workspaceId, id],
    );
    expect(rows[0].types).toEqual(['macro.created', 'macro.updated', 'macro.deleted']);
  });

  it('refuses writes below admin, duplicate names and unknown placeholders', async () => {
    expect((await agent.post('/macros', { name: 'x', body: 'y' })).json().code).toBe('auth.forbidden');
    const m = (await admin.post('/macros', { name: 'Dup', body: 'y' })).json();
    expect((await agent.patch(`/macros/${m.id}`, { body: 'z' })).statusCode).toBe(403);
    expect((await agent.delete(`/macros/${m.id}`)).statusCode).toBe(403);
    expect((await admin.post('/macros', { name: 'dup', body: 'y' })).json().code).toBe('macros.name_taken');
    const typo = await admin.post('/macros', { name: 'Typo', body: 'Hi {{custmer.name}}' });
    expect(typo.statusCode).toBe(422);
    expect(typo.json()).toMatchObject({ code: 'macros.unknown_placeholder', errors: [{ path: 'body', message: '{{custmer.name}} is not a known placeholder' }] });
  });

  it("hides another workspace's macros (404, as if they did not exist)", async () => {
    const other = await createTestWorkspace(rapport);
    const theirs = (await client(rapport, other.token, other.workspaceId).post('/macros', { name: 'Theirs', body: 'x' })).json();
    expect((await admin.patch(`/macros/${theirs.id}`, { name: 'mine now' })).statusCode).toBe(404);
    expect((await admin.delete(`/macros/${theirs.id}`)).statusCode).toBe(404);
    const c = (await admin.post('/conversations', { customer: { email: 'x@example.test' }, message: { body: 'x' } })).json();
    expect((await agent.post(`/conversations/${c.id}/macros/${theirs.id}/apply`, {})).json().code).toBe('macros.not_found');
    expect((await admin.get('/macros')).json().items.some((m: { id: string }) => m.id === theirs.id)).toBe(false);
  });
});

describe('applying a macro', () => {
  it('renders placeholders for the conversation as a preview, changing nothing', async () => {
    const m = (await admin.post('/macros', { ...greeting, name: 'Preview' })).json();
    const person = await addTestMember(rapport, ws, 'agent', 'Dana');
    const session = await signIn(rapport, person.email, person.password);
    const c = (await admin.post('/conversations', { customer: { email: 'ann@example.test', name: 'Ann Lee' }, message: { body: 'help' } })).json();
    const res = await rapport.app.inject({
      method: 'POST',
      url: `/api/v1/workspaces/${ws.workspaceId}/conversations/${c.id}/macros/${m.id}/apply`,
      headers: { cookie: session.cookie, 'x-csrf-token': session.csrfToken },
      payload: {},
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ body: `Hi Ann, about #${c.number}: Dana here.`, actions: m.actions, messageId: null, message: null, conversation: null });
    const after = (await admin.get(`/conversations/${c.id}`)).json();
    expect(after).toMatchObject({ status: 'open', priority: 'normal', messageCount: 1 });
  });

  it('sends the rendered text and applies status, priority and tags', async () => {
    const m = (await admin.post('/macros', { ...greeting, name: 'Send' })).json();
    const c = (await admin.post('/conversations', { customer: { email: 'noname@example.test' }, tags: ['vip'], message: { body: 'help' } })).json();
    const res = await agent.post(`/conversations/${c.id}/macros/${m.id}/apply`, { send: true, type: 'reply' });
    expect(res.statusCode).toBe(200);
    expect(res.json().body).toBe(`Hi there, about #${c.number}: agent here.`);
    expect(res.json().message).toMatchObject({ id: res.json().messageId, type: 'outbound', body: res.json().body });
    expect(res.json().conversation).toMatchObject({ id: c.id, status: 'pending', priority: 'high' });
    const after = (await admin.get(`/conversations/${c.id}`)).json();
    expect(after).toMatchObject({ status: 'pending', priority: 'high', tags: ['greeted', 'macro', 'vip'], messageCount: 2 });
    const messages = (await admin.get(`/conversations/${c.id}/messages`)).json().items;
    expect(messages[1]).toMatchObject({ id: res.json().messageId, type: 'outbound', body: res.json().body, html: null });
  });

  it('sends the text the agent edited from the preview, and still applies the macro actions', async () => {
    const m = (await admin.post('/macros', { ...greeting, name: 'Edited' })).json();
    const c = (await admin.post('/conversations', { customer: { email: 'edit@example.test', name: 'Eve' }, message: { body: 'help' } })).json();
    const res = await agent.post(`/conversations/${c.id}/macros/${m.id}/apply`, { send: true, type: 'reply', body: 'Hi Eve, edited by hand.' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ body: 'Hi Eve, edited by hand.', message: { type: 'outbound', body: 'Hi Eve, edited by hand.' } });
    expect((await admin.get(`/conversations/${c.id}`)).json()).toMatchObject({ status: 'pending', priority: 'high', tags: ['greeted', 'macro'] });
    // An empty edit is refused like any empty message; a body on a preview is an unknown property.
    expect((await agent.post(`/conversations/${c.id}/macros/${m.id}/apply`, { send: true, type: 'reply', body: '' })).statusCode).toBe(422);
    expect((await agent.post(`/conversations/${c.id}/macros/${m.id}/apply`, { body: 'x' })).statusCode).toBe(422);
  });

  it('keeps a customer name holding <script> as plain text, never markup', async () => {
    const m = (await admin.post('/macros', { name: 'Xss', body: 'Dear {{customer.name}} ({{customer.email}})' })).json();
    const name = '<script>alert(1)</script> <img src=x onerror=alert(2)>';
    const c = (await admin.post('/conversations', { customer: { email: 'evil@example.test', name }, subject: '<b>s</b>', message: { body: 'x' } })).json();
    const res = await agent.post(`/conversations/${c.id}/macros/${m.id}/apply`, { send: true, type: 'note' });
    expect(res.json().body).toBe(`Dear ${name} (evil@example.test)`);
    const note = (await admin.get(`/conversations/${c.id}/messages`)).json().items[1];
    expect(note).toMatchObject({ type: 'note', body: `Dear ${name} (evil@example.test)`, html: null });
  });

  it('rolls back the reply, the status and every event together when its last action fails', async () => {
    // Tags are the last action: 19 on the conversation plus the macro's 3 new ones pass the limit of 20.
    const m = (await admin.post('/macros', { name: 'Too many tags', body: 'On it.', actions: { status: 'pending', priority: 'urgent', addTags: ['x1', 'x2', 'x3'] } })).json();
    const tags = Array.from({ length: 19 }, (_, i) => `t${i}`);
    const c = (await admin.post('/conversations', { customer: { email: 'atomic@example.test' }, tags, message: { body: 'help' } })).json();
    const eventsOf = async () =>
      (
        await rapport.pool.query("select set_config('app.system', 'on', true), (select array_agg(type order by id) from events where workspace_id = $1 and conversation_id = $2) as types", [
          ws.workspaceId,
          c.id,
        ])
      ).rows[0].types;
    const before = await eventsOf();

    const res = await agent.post(`/conversations/${c.id}/macros/${m.id}/apply`, { send: true, type: 'reply' });
    expect(res.statusCode).toBe(422);
    expect(res.json().code).toBe('conversations.too_many_tags');

    const after = (await admin.get(`/conversations/${c.id}`)).json();
    expect(after).toMatchObject({ status: 'open', priority: 'normal', tags: [...tags].sort(), messageCount: 1 });
    expect((await admin.get(`/conversations/${c.id}/messages`)).json().items).toHaveLength(1);
    expect(await eventsOf()).toEqual(before);
  });

  it('refuses a client viewer, and a conversation of another workspace', async () => {
    const m = (await admin.post('/macros', { name: 'Roles', body: 'x' })).json();
    const c = (await admin.post('/conversations', { customer: { email: 'r@example.test' }, message: { body: 'x' } })).json();
    const viewer = client(rapport, await tokenFor(rapport, ws, 'client_viewer'), ws.workspaceId);
    expect((await viewer.post(`/conversations/${c.id}/macros/${m.id}/apply`, {})).statusCode).toBe(403);
    const other = await createTestWorkspace(rapport);
    const foreign = (await client(rapport, other.token, other.workspaceId).post('/conversations', { customer: { email: 'r@example.test' }, message: { body: 'x' } })).json();
    expect((await agent.post(`/conversations/${foreign.id}/macros/${m.id}/apply`, {})).json().code).toBe('conversations.not_found');
    expect((await agent.post(`/conversations/${c.id}/macros/${m.id}/apply`, { send: true })).statusCode).toBe(422);
  });
});

describe('the template', () => {
  it('leaves text that only looks like a placeholder alone and uses fallbacks for empty values', () => {
    const values = {
      'customer.name': '  ',
      'customer.first_name': null,
      'customer.last_name': null,
      'customer.email': 'a@b',
      'customer.phone': null,
      'conversation.number': '7',
      'conversation.subject': null,
      'agent.name': 'Al',
      'agent.first_name': 'Al',
    } as const;
    expect(render('{{customer.name|friend}} {{ customer.email }} {x} {{ nope }} {{conversation.number}}', values)).toBe('friend a@b {x} {{ nope }} 7');
    expect(render('{{customer.first_name}}!', values)).toBe('!');
  });
});
