import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addTestMember, client, createTestWorkspace, startTestServer, type TestServer, type TestWorkspace } from '../../../test/helpers.js';

let rapport: TestServer;
let ws: TestWorkspace;
let api: ReturnType<typeof client>;

beforeAll(async () => {
  rapport = await startTestServer();
  ws = await createTestWorkspace(rapport);
  api = client(rapport, ws.token, ws.workspaceId);
});
afterAll(async () => rapport?.stop());

const newConversation = (over: Record<string, unknown> = {}) => ({
  customer: { email: 'Ann@Example.com', name: 'Ann' },
  subject: 'Where is my order?',
  message: { body: 'It was due on Monday.' },
  ...over,
});

describe('creating a conversation', () => {
  it('opens it with its first inbound message, a per-workspace number and a new customer', async () => {
    const res = await api.post('/conversations', newConversation());
    expect(res.statusCode).toBe(201);
    const c = res.json();
    expect(c).toMatchObject({ number: 1001, status: 'open', priority: 'normal', subject: 'Where is my order?', channel: 'api', messageCount: 1 });
    expect(c.customer).toMatchObject({ email: 'ann@example.com', name: 'Ann' });
    expect(c.waitingSince).toBe(c.createdAt);
    const messages = (await api.get(`/conversations/${c.id}/messages`)).json();
    expect(messages.items).toHaveLength(1);
    expect(messages.items[0]).toMatchObject({ type: 'inbound', body: 'It was due on Monday.', author: { type: 'customer', id: c.customer.id, name: 'Ann' } });
  });

  it('finds the existing customer by identity instead of creating another', async () => {
    const a = (await api.post('/conversations', newConversation())).json();
    const b = (await api.post('/conversations', newConversation({ customer: { email: 'ann@example.COM' } }))).json();
    expect(b.customer.id).toBe(a.customer.id);
    expect(b.number).toBe(a.number + 1);
  });

  it('sanitizes HTML bodies on the way in', async () => {
    const c = (await api.post('/conversations', newConversation({ message: { body: 'hi', html: '<p onclick="x()">hi<script>alert(1)</script><img src=x onerror=alert(1)><a href="javascript:alert(1)">l</a></p>' } }))).json();
    const m = (await api.get(`/conversations/${c.id}/messages`)).json().items[0];
    expect(m.html).not.toMatch(/script|onerror|onclick|javascript:/i);
    expect(m.html).toContain('<p>hi');
  });
});

describe('working a conversation', () => {
  it('records replies, notes, assignment, tags and status as timeline events', async () => {
    const agent = await addTestMember(rapport, ws, 'agent', 'Sam');
    const c = (await api.post('/conversations', newConversation())).json();
    const reply = await api.post(`/conversations/${c.id}/messages`, { type: 'reply', body: 'On its way!' });
    expect(reply.statusCode).toBe(201);
    expect(reply.json()).toMatchObject({ type: 'outbound', author: { type: 'token' } });
    expect((await api.post(`/conversations/${c.id}/messages`, { type: 'note', body: 'courier delayed' })).json().type).toBe('note');
    const patched = await api.patch(`/conversations/${c.id}`, { assigneeId: agent.id, tags: ['Shipping', 'shipping', 'vip'], priority: 'high', status: 'resolved' });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({ assigneeId: agent.id, tags: ['shipping', 'vip'], priority: 'high', status: 'resolved', waitingSince: null });
    expect(patched.json().firstResponseAt).not.toBeNull();
    expect(patched.json().resolvedAt).not.toBeNull();
    const events = (await api.get(`/conversations/${c.id}/events`)).json().items.map((e: { type: string }) => e.type);
    expect(events).toEqual([
      'conversation.created', 'message.created', 'message.created', 'message.created',
      'conversation.status_changed', 'conversation.priority_changed', 'conversation.assigned', 'conversation.tags_changed',
    ]);
  });
});
