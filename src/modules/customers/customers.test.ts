import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, createTestWorkspace, type TestServer, type TestWorkspace, startWithWorkspace } from '../../../test/helpers.js';

let rapport: TestServer;
let ws: TestWorkspace;
let api: ReturnType<typeof client>;

beforeAll(async () => ({ rapport, ws, api } = await startWithWorkspace()));
afterAll(async () => rapport?.stop());

describe('customers', () => {
  it('are created with identities in canonical form and custom attributes', async () => {
    const res = await api.post('/customers', { name: 'Bo', email: 'Bo@Example.COM', phone: '+44 (20) 7946-0958', externalId: 'crm-1', customAttributes: { plan: 'pro', seats: 20, vip: true } });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({
      name: 'Bo',
      email: 'bo@example.com',
      phone: '+442079460958',
      customAttributes: { plan: 'pro', seats: 20, vip: true },
      identities: [
        { kind: 'email', value: 'bo@example.com' },
        { kind: 'phone', value: '+442079460958' },
        { kind: 'external_id', value: 'crm-1' },
      ],
    });
  });

  it('show their conversations, newest first', async () => {
    const c1 = (await api.post('/conversations', { customer: { email: 'hist@example.test', name: 'Hist' }, subject: 'one', message: { body: '1' } })).json();
    const c2 = (await api.post('/conversations', { customer: { email: 'hist@example.test' }, subject: 'two', message: { body: '2' } })).json();
    const detail = (await api.get(`/customers/${c1.customer.id}`)).json();
    expect(detail.conversations.map((c: { id: string }) => c.id)).toEqual([c2.id, c1.id]);
    expect(detail.conversations[0]).toMatchObject({ number: c2.number, subject: 'two', status: 'open' });
  });

  it('are updated: name, attributes, and an identity replaced', async () => {
    const c = (await api.post('/customers', { email: 'old@example.test' })).json();
    const res = await api.patch(`/customers/${c.id}`, { name: 'New Name', email: 'new@example.test', customAttributes: { tier: 'gold' } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ name: 'New Name', email: 'new@example.test', customAttributes: { tier: 'gold' } });
    expect(res.json().identities.filter((i: { kind: string }) => i.kind === 'email')).toHaveLength(1);
    // The old address is free again; the new one now finds this customer.
    const conv = (await api.post('/conversations', { customer: { email: 'new@example.test' }, message: { body: 'x' } })).json();
    expect(conv.customer.id).toBe(c.id);
  });

  it('cannot take an identity another customer holds, and learn nothing about who holds it (SECURITY T3)', async () => {
    const holder = (await api.post('/customers', { name: 'Holder', email: 'taken@example.test' })).json();
    const other = (await api.post('/customers', { email: 'mine@example.test' })).json();
    const res = await api.patch(`/customers/${other.id}`, { email: 'taken@example.test' });
    expect(res.statusCode).toBe(409);
    expect(res.json().code).toBe('customers.identity_unavailable');
    expect(res.body).not.toContain(holder.id);
    expect(res.body).not.toContain('Holder');
    expect((await api.post('/customers', { email: 'taken@example.test' })).statusCode).toBe(409);
    // The same email in another workspace is another customer.
    const b = await createTestWorkspace(rapport);
    expect((await client(rapport, b.token, b.workspaceId).post('/customers', { email: 'taken@example.test' })).statusCode).toBe(201);
  });

  it('refuse attribute keys and values off their schema', async () => {
    expect((await api.post('/customers', { email: 'a1@example.test', customAttributes: { 'bad key': 1 } })).statusCode).toBe(422);
    expect((await api.post('/customers', { email: 'a2@example.test', customAttributes: { nested: { x: 1 } } })).statusCode).toBe(422);
    const many = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, i]));
    expect((await api.post('/customers', { email: 'a3@example.test', customAttributes: many })).statusCode).toBe(422);
  });

  it('are listed newest first with cursor pages and searched by name prefix or exact identity', async () => {
    const own = await createTestWorkspace(rapport);
    const o = client(rapport, own.token, own.workspaceId);
    for (let i = 0; i < 7; i++) await o.post('/customers', { name: `Person ${i}`, email: `person${i}@example.test` });
    const first = (await o.get('/customers?limit=4')).json();
    const second = (await o.get(`/customers?limit=4&cursor=${first.nextCursor}`)).json();
    const names = [...first.items, ...second.items].map((c: { name: string }) => c.name);
    expect(new Set(names).size).toBe(7);
    expect(second.nextCursor).toBeNull();
    expect((await o.get('/customers?q=Person%203')).json().items.map((c: { name: string }) => c.name)).toEqual(['Person 3']);
    expect((await o.get('/customers?q=PERSON5%40example.test')).json().items.map((c: { name: string }) => c.name)).toEqual(['Person 5']);
  });
});
