import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../config.js';
import { addTestMember, client, createTestWorkspace, signIn, startWithWorkspace, startTestServer, tokenFor, type TestServer, type TestWorkspace } from '../../../test/helpers.js';

/**
 * I1: an inbox's settings (mail server hosts, usernames, addresses) are for admins. Client viewers,
 * agents and supervisors read the inbox (name, channel) without them.
 */
let rapport: TestServer;
let ws: TestWorkspace;
let inboxId: string;

const SECRET_BITS = ['imap.example.com', 'mailbot-user', 'smtp.example.com', 'relay-user', 'support@read.test'];

beforeAll(async () => {
  let api: Awaited<ReturnType<typeof startWithWorkspace>>['api'];
  ({ rapport, ws, api } = await startWithWorkspace());
  const res = await api.post('/inboxes', {
    name: 'Support mail',
    channel: 'email',
    settings: {
      addresses: ['support@read.test'],
      imap: { host: 'imap.example.com', user: 'mailbot-user', password: 'imap-password' },
      smtp: { host: 'smtp.example.com', user: 'relay-user', password: 'smtp-password' },
    },
  });
  expect(res.statusCode, res.body).toBe(201);
  inboxId = res.json().id;
});
afterAll(async () => rapport?.stop());

describe('reading inboxes', () => {
  it.each(['client_viewer', 'agent', 'supervisor'] as const)('gives a %s the inboxes without their settings', async (role) => {
    const api = client(rapport, await tokenFor(rapport, ws, role), ws.workspaceId);
    const list = await api.get('/inboxes');
    const one = await api.get(`/inboxes/${inboxId}`);
    expect([list.statusCode, one.statusCode]).toEqual([200, 200]);
    const mine = list.json().items.find((i: { id: string }) => i.id === inboxId);
    expect(mine).toMatchObject({ id: inboxId, name: 'Support mail', channel: 'email' });
    expect(mine).not.toHaveProperty('settings');
    expect(one.json()).not.toHaveProperty('settings');
    for (const bit of SECRET_BITS) {
      expect(list.body).not.toContain(bit);
      expect(one.body).not.toContain(bit);
    }
  });

  it('gives a signed-in client viewer (cookie) the same', async () => {
    const viewer = await addTestMember(rapport, ws, 'client_viewer', 'viewer');
    const { cookie } = await signIn(rapport, viewer.email, viewer.password);
    const res = await rapport.app.inject({ method: 'GET', url: `/api/v1/workspaces/${ws.workspaceId}/inboxes/${inboxId}`, headers: { cookie } });
    expect(res.statusCode).toBe(200);
    for (const bit of SECRET_BITS) expect(res.body).not.toContain(bit);
  });

  it('gives admins and owners the settings, passwords masked', async () => {
    const admin = client(rapport, ws.token, ws.workspaceId);
    const { cookie } = await signIn(rapport, ws.owner.email, ws.owner.password);
    const owner = await rapport.app.inject({ method: 'GET', url: `/api/v1/workspaces/${ws.workspaceId}/inboxes/${inboxId}`, headers: { cookie } });
    for (const res of [await admin.get(`/inboxes/${inboxId}`), owner]) {
      expect(res.statusCode).toBe(200);
      expect(res.json().settings).toMatchObject({ addresses: ['support@read.test'], imap: { host: 'imap.example.com', user: 'mailbot-user' } });
      expect(res.body).not.toContain('imap-password');
      expect(res.body).not.toContain('smtp-password');
    }
  });
});

describe('SECURE_COOKIES', () => {
  it('defaults to on when PUBLIC_URL is https, off otherwise, and an explicit value wins', () => {
    expect(loadConfig({ PUBLIC_URL: 'https://help.example.com' }).secureCookies).toBe(true);
    expect(loadConfig({ PUBLIC_URL: 'HTTPS://help.example.com' }).secureCookies).toBe(true);
    expect(loadConfig({ PUBLIC_URL: 'http://help.example.com' }).secureCookies).toBe(false);
    expect(loadConfig({}).secureCookies).toBe(false);
    expect(loadConfig({ PUBLIC_URL: 'https://help.example.com', SECURE_COOKIES: 'false' }).secureCookies).toBe(false);
    expect(loadConfig({ PUBLIC_URL: 'http://help.example.com', SECURE_COOKIES: 'true' }).secureCookies).toBe(true);
  });

  it('marks the session cookie Secure on a server whose PUBLIC_URL is https', async () => {
    const https = await startTestServer({ config: { publicUrl: 'https://help.example.com' } });
    try {
      const w = await createTestWorkspace(https);
      const res = await https.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: w.owner.email, password: w.owner.password } });
      expect(res.statusCode).toBe(200);
      const cookie = res.cookies.find((c) => c.name === 'rapport_session');
      expect(cookie?.secure).toBe(true);
      expect(cookie?.httpOnly).toBe(true);
    } finally {
      await https.stop();
    }
  });
});
