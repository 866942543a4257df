import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addTestMember, type client, signIn, type TestServer, type TestWorkspace, startWithWorkspace } from '../../../test/helpers.js';

/** The inbox row says who wrote its preview (issue #10: "You: …", "Ana: …" or the customer's words). */
let rapport: TestServer;
let ws: TestWorkspace;
let api: ReturnType<typeof client>;

beforeAll(async () => ({ rapport, ws, api } = await startWithWorkspace()));
afterAll(async () => rapport?.stop());

describe("the list preview's author", () => {
  it('is the customer, then the agent who replied (named by one look-up per page), and a note changes neither the preview nor its author', async () => {
    const ana = await addTestMember(rapport, ws, 'agent', 'Ana');
    const c = (await api.post('/conversations', { customer: { email: 'pia@example.test', name: 'Pia' }, subject: 'Broken lid', message: { body: 'The lid cracked.' } })).json();
    const row = async () => (await api.get('/conversations?limit=50')).json().items.find((i: { id: string }) => i.id === c.id);
    expect((await row()).lastMessage).toEqual({ type: 'inbound', preview: 'The lid cracked.', author: { type: 'customer', id: c.customer.id, name: 'Pia' } });

    const session = await signIn(rapport, ana.email, ana.password);
    const reply = await rapport.app.inject({
      method: 'POST',
      url: `/api/v1/workspaces/${ws.workspaceId}/conversations/${c.id}/messages`,
      headers: { cookie: session.cookie, 'x-csrf-token': session.csrfToken },
      payload: { type: 'reply', body: 'A new one is on its way.' },
    });
    expect(reply.statusCode).toBe(201);
    expect((await row()).lastMessage).toEqual({ type: 'outbound', preview: 'A new one is on its way.', author: { type: 'user', id: ana.id, name: 'Ana' } });

    expect((await api.post(`/conversations/${c.id}/messages`, { type: 'note', body: 'courier booked' })).statusCode).toBe(201);
    expect((await row()).lastMessage.author).toEqual({ type: 'user', id: ana.id, name: 'Ana' });
    // The single read says who too (the name is the list's look-up; the id is always there).
    expect((await api.get(`/conversations/${c.id}`)).json().lastMessage.author).toMatchObject({ type: 'user', id: ana.id });
  });
});
