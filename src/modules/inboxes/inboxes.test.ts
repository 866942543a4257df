import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, createTestWorkspace, tokenFor, type TestServer, type TestWorkspace, startWithWorkspace } from '../../../test/helpers.js';

let rapport: TestServer;
let ws: TestWorkspace;
let admin: ReturnType<typeof client>;

beforeAll(async () => ({ rapport, ws, api: admin } = await startWithWorkspace()));
afterAll(async () => rapport?.stop());

describe('editing an inbox', () => {
  it('renames an inbox and replaces its settings through the channel’s own checks', async () => {
    const inbox = (await admin.post('/inboxes', { name: 'Support', channel: 'email', settings: { addresses: ['help@edit.test'] } })).json();
    const res = await admin.patch(`/inboxes/${inbox.id}`, { name: 'Customer care', settings: { addresses: ['care@edit.test'] } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id: inbox.id, name: 'Customer care', channel: 'email', settings: { addresses: ['care@edit.test'] } });
    expect((await admin.get(`/inboxes/${inbox.id}`)).json().name).toBe('Customer care');
    // Settings the channel refuses change nothing.
    const bad = await admin.patch(`/inboxes/${inbox.id}`, { name: 'Broken', settings: { addresses: ['not an address'] } });
    expect(bad.statusCode).toBe(422);
    expect((await admin.get(`/inboxes/${inbox.id}`)).json()).toMatchObject({ name: 'Customer care', settings: { addresses: ['care@edit.test'] } });
    // The address moved: the workspace may list the old one again in another inbox, not the new one.
    expect((await admin.post('/inboxes', { name: 'X', channel: 'email', settings: { addresses: ['help@edit.test'] } })).statusCode).toBe(201);
    expect((await admin.post('/inboxes', { name: 'Y', channel: 'email', settings: { addresses: ['care@edit.test'] } })).statusCode).toBe(409);
    // Another workspace may list either: a claim routes nothing until it is proven (SECURITY H2, email.ownership.test.ts).
    const other = await createTestWorkspace(rapport);
    expect((await client(rapport, other.token, other.workspaceId).post('/inboxes', { name: 'Z', channel: 'email', settings: { addresses: ['care@edit.test'] } })).statusCode).toBe(201);
  });

  it('is for admins only, and another workspace’s inbox answers 404', async () => {
    const agent = client(rapport, await tokenFor(rapport, ws, 'agent'), ws.workspaceId);
    expect((await agent.patch(`/inboxes/${ws.inboxId}`, { name: 'Mine' })).statusCode).toBe(403);
    const other = await createTestWorkspace(rapport);
    const res = await client(rapport, other.token, other.workspaceId).patch(`/inboxes/${ws.inboxId}`, { name: 'Hijacked' });
    expect([res.statusCode, res.json().code]).toEqual([404, 'inboxes.not_found']);
    expect((await admin.get(`/inboxes/${ws.inboxId}`)).json().name).not.toBe('Hijacked');
  });
});
