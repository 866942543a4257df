import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, createTestWorkspace, type TestServer, type TestWorkspace, startWithWorkspace, tokenFor } from '../../../test/helpers.js';
import { withWorkspace } from '../../db/tenancy.js';
import { systemQuery } from '../channels/email/email.testing.js';
import { findOrCreateSql } from './customers.repository.js';

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

  it('gain and lose emails and phones; a phone is kept in international form', async () => {
    const c = (await api.post('/customers', { name: 'Multi', email: 'multi@example.test' })).json();
    const withEmail = await api.post(`/customers/${c.id}/identities`, { kind: 'email', value: ' Multi.Work@Example.TEST ' });
    expect(withEmail.statusCode).toBe(201);
    const withPhone = await api.post(`/customers/${c.id}/identities`, { kind: 'phone', value: '0044 (20) 7946-0961' });
    expect(withPhone.statusCode).toBe(201);
    expect(withPhone.json().identities.map((i: { kind: string; value: string }) => `${i.kind}:${i.value}`)).toEqual([
      'email:multi@example.test',
      'email:multi.work@example.test',
      'phone:+442079460961',
    ]);
    const phoneId = withPhone.json().identities.find((i: { kind: string }) => i.kind === 'phone').id;
    const removed = await api.delete(`/customers/${c.id}/identities/${phoneId}`);
    expect(removed.statusCode).toBe(200);
    expect(removed.json().identities.map((i: { value: string }) => i.value)).toEqual(['multi@example.test', 'multi.work@example.test']);
    expect((await api.delete(`/customers/${c.id}/identities/${phoneId}`)).json().code).toBe('customers.identity_not_found');
    // The removed number is free for someone else.
    expect((await api.post('/customers', { phone: '+44 20 7946 0961' })).statusCode).toBe(201);
  });

  it('refuse a malformed email or phone with a message a person can act on, and keep their last identity', async () => {
    const c = (await api.post('/customers', { email: 'lonely@example.test' })).json();
    const badEmail = await api.post(`/customers/${c.id}/identities`, { kind: 'email', value: 'not an address' });
    expect(badEmail.statusCode).toBe(422);
    expect(badEmail.json()).toMatchObject({ code: 'customers.invalid_email' });
    for (const value of ['020 7946 0958', '+12', '+44 20 7946 0958 0000 0000', 'call me']) {
      const bad = await api.post(`/customers/${c.id}/identities`, { kind: 'phone', value });
      expect(bad.statusCode, value).toBe(422);
      expect(bad.json().code, value).toBe('customers.invalid_phone');
      expect(bad.json().detail).toMatch(/international form/);
    }
    const only = c.identities[0].id;
    const last = await api.delete(`/customers/${c.id}/identities/${only}`);
    expect(last.statusCode).toBe(422);
    expect(last.json().code).toBe('customers.last_identity');
  });

  it('cannot add an identity another customer holds (409, naming no one), while another workspace may hold the same', async () => {
    const holder = (await api.post('/customers', { name: 'Phone Holder', phone: '+14155550100' })).json();
    const other = (await api.post('/customers', { email: 'wants-phone@example.test' })).json();
    const res = await api.post(`/customers/${other.id}/identities`, { kind: 'phone', value: '+1 415 555 0100' });
    expect(res.statusCode).toBe(409);
    expect(res.json().code).toBe('customers.identity_unavailable');
    expect(res.body).not.toContain(holder.id);
    expect(res.body).not.toContain('Phone Holder');
    const b = await createTestWorkspace(rapport);
    const bApi = client(rapport, b.token, b.workspaceId);
    const bCustomer = (await bApi.post('/customers', { email: 'b-side@example.test' })).json();
    expect((await bApi.post(`/customers/${bCustomer.id}/identities`, { kind: 'phone', value: '+14155550100' })).statusCode).toBe(201);
  });

  it("answer another workspace's customer exactly like a missing one", async () => {
    const b = await createTestWorkspace(rapport);
    const theirs = (await client(rapport, b.token, b.workspaceId).post('/customers', { email: 'theirs@example.test' })).json();
    const missing = await api.get('/customers/00000000-0000-4000-8000-000000000000');
    for (const res of [
      await api.get(`/customers/${theirs.id}`),
      await api.patch(`/customers/${theirs.id}`, { notes: 'x' }),
      await api.post(`/customers/${theirs.id}/identities`, { kind: 'email', value: 'steal@example.test' }),
      await api.delete(`/customers/${theirs.id}/identities/${theirs.identities[0].id}`),
    ]) {
      expect(res.statusCode).toBe(404);
      expect(res.json()).toEqual(missing.json());
    }
  });

  it('keep an internal note that agents read and a client viewer never does, nor learns it changed', async () => {
    const c = (await api.post('/customers', { name: 'Noted', email: 'noted@example.test' })).json();
    const res = await api.patch(`/customers/${c.id}`, { notes: 'Refund abuse suspected: check with Sam' });
    expect(res.statusCode).toBe(200);
    expect(res.json().notes).toBe('Refund abuse suspected: check with Sam');
    const viewer = client(rapport, await tokenFor(rapport, ws, 'client_viewer'), ws.workspaceId);
    const one = await viewer.get(`/customers/${c.id}`);
    expect(one.statusCode).toBe(200);
    expect(one.json()).not.toHaveProperty('notes');
    const listed = (await viewer.get('/customers?q=noted%40example.test')).json().items;
    expect(listed).toHaveLength(1);
    expect(JSON.stringify(listed)).not.toContain('Refund abuse');
    expect((await api.get('/customers?q=noted%40example.test')).json().items[0].notes).toBe('Refund abuse suspected: check with Sam');
    // The change is announced to agents only: customer.updated (which client viewers see) does not name it.
    const events = await systemQuery<{ type: string; data: { fields?: string[] } }>(rapport, "select type, data from events where workspace_id = $1 and data->>'customerId' = $2 order by id", [
      ws.workspaceId,
      c.id,
    ]);
    expect(events.map((e) => e.type)).toEqual(['customer.created', 'customer.notes_updated']);
    expect((await viewer.patch(`/customers/${c.id}`, { notes: 'x' })).statusCode).toBe(403);
    expect((await api.patch(`/customers/${c.id}`, { notes: null })).json().notes).toBeNull();
  });

  it('are filtered by identity kind, creation time and open conversations, across short pages', async () => {
    const own = await createTestWorkspace(rapport);
    const o = client(rapport, own.token, own.workspaceId);
    const start = rapport.server.clock.now().toISOString();
    const phoneOnly = (await o.post('/customers', { name: 'Phone only', phone: '+33142685300' })).json();
    const open = (await o.post('/conversations', { customer: { email: 'open@example.test', name: 'Has open' }, message: { body: 'help' } })).json();
    const done = (await o.post('/conversations', { customer: { email: 'done@example.test', name: 'All done' }, message: { body: 'thanks' } })).json();
    expect((await o.patch(`/conversations/${done.id}`, { status: 'resolved' })).statusCode).toBe(200);
    for (let i = 0; i < 5; i++) await o.post('/customers', { name: `Quiet ${i}`, email: `quiet${i}@example.test` });
    const names = async (query: string) => {
      const all: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { items: { name: string }[]; nextCursor: string | null } = (await o.get(`/customers?limit=2&${query}${cursor ? `&cursor=${cursor}` : ''}`)).json();
        all.push(...page.items.map((c: { name: string }) => c.name));
        cursor = page.nextCursor;
      } while (cursor);
      return all;
    };
    expect(await names('kind=phone')).toEqual(['Phone only']);
    expect(await names('hasOpenConversation=true')).toEqual(['Has open']);
    expect(await names('hasOpenConversation=false')).toEqual(['Quiet 4', 'Quiet 3', 'Quiet 2', 'Quiet 1', 'Quiet 0', 'All done', 'Phone only']);
    expect(await names(`createdBefore=${encodeURIComponent(start)}`)).toEqual([]);
    expect((await names(`createdAfter=${encodeURIComponent(start)}`)).length).toBe(8);
    expect(await names('kind=email&q=Has')).toEqual(['Has open']);
    expect(open.customer.id).not.toBe(phoneOnly.id);
    expect((await o.get('/customers?kind=Not-A-Kind')).statusCode).toBe(422);
  });

  it('a new conversation finds the customer holding the first of its identities that anyone holds, in order', async () => {
    const byPhone = (await api.post('/customers', { name: 'By phone', email: 'byphone@example.test', phone: '+44 20 7946 0111' })).json();
    const byEmail = (await api.post('/customers', { name: 'By email', email: 'byemail@example.test' })).json();
    // The email is nobody's: the phone finds its customer, who keeps their own email and phone.
    const a = (await api.post('/conversations', { customer: { email: 'nobody-yet@example.test', phone: '+442079460111' }, message: { body: 'a' } })).json();
    expect(a.customer).toEqual({ id: byPhone.id, name: 'By phone', email: 'byphone@example.test', phone: '+442079460111' });
    // Both are held: the email comes first.
    const b = (await api.post('/conversations', { customer: { email: 'byemail@example.test', phone: '+442079460111' }, message: { body: 'b' } })).json();
    expect(b.customer.id).toBe(byEmail.id);
    // Neither is held: one new customer holds both.
    const c = (await api.post('/conversations', { customer: { name: 'Both new', email: 'both@example.test', phone: '+44 20 7946 0222' }, message: { body: 'c' } })).json();
    expect(c.customer).toMatchObject({ name: 'Both new', email: 'both@example.test', phone: '+442079460222' });
    expect((await api.get(`/customers/${c.customer.id}`)).json().identities.map((i: { kind: string }) => i.kind)).toEqual(['email', 'phone']);
  });

  // Issue 14: a pooled connection prepares find-or-create once and, after five runs, may keep the
  // generic plan, planned without the parameters' values and with the statistics of that moment
  // (here, a nearly empty table). That plan must still probe the unique identity index per identity:
  // the earlier statement joined unnest(arrays) and got a scan of every identity of the workspace.
  it('find-or-create probes the identity index in the generic plan a pooled connection keeps', async () => {
    for (const n of [1, 3]) {
      const plan = await withWorkspace(rapport.server.pool, ws.workspaceId, async (tx) => {
        await tx.query('set local plan_cache_mode = force_generic_plan');
        await tx.query(`prepare find_or_create_plan (uuid, uuid, text, timestamptz, text, uuid, text${', text, text'.repeat(n)}) as ${findOrCreateSql(n)}`);
        try {
          const args = [ws.workspaceId, randomUUID(), 'Plan', new Date().toISOString(), 'user', ws.owner.id, '{}', ...Array.from({ length: n }, (_, i) => ['email', `plan-${i}@example.test`]).flat()];
          const { rows } = await tx.query<{ 'QUERY PLAN': string }>(`explain (costs off) execute find_or_create_plan(${args.map((a) => tx.escapeLiteral(a)).join(', ')})`);
          return rows.map((r) => r['QUERY PLAN']).join('\n');
        } finally {
          await tx.query('deallocate find_or_create_plan');
        }
      });
      expect(plan).not.toMatch(/(Seq|Bitmap Heap) Scan on customer_identities/);
      expect(plan).toContain('Index Scan using customer_identities_workspace_id_kind_value_key');
      expect(plan).toContain('Index Cond: ((workspace_id = $1) AND (kind = $8) AND (value = $9))');
    }
  });
});
