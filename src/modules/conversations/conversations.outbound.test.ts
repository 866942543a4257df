import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, createTestWorkspace, eventually, startTestServer, type TestServer, type TestWorkspace } from '../../../test/helpers.js';
import { createEmailModule } from '../channels/email/email.module.js';
import { createEmailInbox, startSink } from '../channels/email/email.testing.js';
import { modules } from '../index.js';

/** An agent starts a conversation by email from a customer's page (issue #10): it reaches a real SMTP server. */
let rapport: TestServer;
let ws: TestWorkspace;
let sink: Awaited<ReturnType<typeof startSink>>;
let inboxId: string;

beforeAll(async () => {
  sink = await startSink();
  rapport = await startTestServer({ modules: modules.map((m) => (m.name === 'email' ? createEmailModule({ smtpTimeoutMs: 5000, retryBaseMs: 5000 }) : m)) });
  ws = await createTestWorkspace(rapport);
  inboxId = (await createEmailInbox(rapport, ws, { addresses: ['hello@shop.test'], fromName: 'Shop', smtp: { host: '127.0.0.1', port: sink.port, tls: 'none' } })).id;
});
afterAll(async () => {
  await rapport?.stop();
  await sink?.close();
});

const api = () => client(rapport, ws.token, ws.workspaceId);

describe('starting a conversation by email', () => {
  it("sends the agent's first message to the chosen address of the customer, not as a reply, through the outbound job", async () => {
    const customer = (await api().post('/customers', { name: 'Ann Lee', email: 'ann@home.test' })).json();
    await api().post(`/customers/${customer.id}/identities`, { kind: 'email', value: 'ann@work.test' });
    const res = await api().post('/conversations/outbound', { customerId: customer.id, inboxId, to: 'Ann@Work.test', subject: 'Your replacement mug', body: 'It ships today.' });
    expect(res.statusCode).toBe(201);
    const conversation = res.json();
    expect(conversation).toMatchObject({ inboxId, channel: 'email', subject: 'Your replacement mug', status: 'open', customer: { id: customer.id }, lastMessage: { type: 'outbound' } });
    const mail = await eventually(async () => sink.received.find((r) => r.raw.includes('It ships today.')), 15_000);
    expect(mail.to).toEqual(['ann@work.test']);
    expect(mail.raw).toMatch(/^Subject: Your replacement mug\r?$/m);
    expect(mail.raw).not.toMatch(/^In-Reply-To:/m);
    const message = await eventually(async () => {
      const items = (await api().get(`/conversations/${conversation.id}/messages`)).json().items;
      return items[0]?.metadata.delivery?.status === 'sent' ? items[0] : null;
    });
    expect(message).toMatchObject({ type: 'outbound' });
    // The customer's page lists it with its status.
    const detail = (await api().get(`/customers/${customer.id}`)).json();
    expect(detail.conversations[0]).toMatchObject({ id: conversation.id, inboxId, channel: 'email', status: 'open', subject: 'Your replacement mug' });
    // A later reply in that conversation is a reply again.
    expect((await api().post(`/conversations/${conversation.id}/messages`, { type: 'reply', body: 'Tracking: 42.' })).statusCode).toBe(201);
    const second = await eventually(async () => sink.received.find((r) => r.raw.includes('Tracking: 42.')), 15_000);
    expect(second.raw).toMatch(/^Subject: Re: Your replacement mug\r?$/m);
    // ... and goes to the address the conversation was started to, not the customer's first one.
    expect(second.to).toEqual(['ann@work.test']);
  }, 40_000);

  it("refuses an address the customer does not hold, an inbox that cannot email, and another workspace's customer or inbox as missing", async () => {
    const customer = (await api().post('/customers', { email: 'bo@home.test' })).json();
    const base = { customerId: customer.id, inboxId, to: 'bo@home.test', subject: 'Hi', body: 'Hello' };
    const stranger = await api().post('/conversations/outbound', { ...base, to: 'someone@else.test' });
    expect(stranger.statusCode).toBe(422);
    expect(stranger.json().code).toBe('conversations.not_customers_address');
    const apiInbox = await api().post('/conversations/outbound', { ...base, inboxId: ws.inboxId });
    expect(apiInbox.statusCode).toBe(422);
    expect(apiInbox.json().code).toBe('conversations.inbox_cannot_email');
    const b = await createTestWorkspace(rapport);
    const bApi = client(rapport, b.token, b.workspaceId);
    const theirs = (await bApi.post('/customers', { email: 'bo@home.test' })).json();
    const missingCustomer = await api().post('/conversations/outbound', { ...base, customerId: '00000000-0000-4000-8000-000000000000' });
    const theirCustomer = await api().post('/conversations/outbound', { ...base, customerId: theirs.id });
    expect(missingCustomer.statusCode).toBe(404);
    expect(theirCustomer.json()).toEqual(missingCustomer.json());
    const missingInbox = await api().post('/conversations/outbound', { ...base, inboxId: '00000000-0000-4000-8000-000000000000' });
    const theirInbox = await bApi.post('/conversations/outbound', { ...base, customerId: theirs.id, inboxId });
    expect(missingInbox.statusCode).toBe(404);
    expect(theirInbox.json()).toEqual(missingInbox.json());
    const invalid = await api().post('/conversations/outbound', { ...base, to: 'not an address' });
    expect(invalid.statusCode).toBe(422);
    // Nothing was opened by any of these.
    expect((await api().get(`/customers/${customer.id}`)).json().conversations).toEqual([]);
  });
});
