import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/lib/logger.js';
import { client, createTestWorkspace, signIn, startTestServer, type TestServer } from './helpers.js';

/** Logs are structured and never carry message bodies, passwords, tokens or cookies. */
let rapport: TestServer;
let captured = '';

beforeAll(async () => {
  const sink = new Writable({
    write(chunk, _enc, done) {
      captured += chunk.toString();
      done();
    },
  });
  rapport = await startTestServer({ log: createLogger('debug', sink) });
});
afterAll(async () => rapport?.stop());

describe('logs', () => {
  it('hold requests and outcomes but no bodies, passwords, tokens or session cookies', async () => {
    const ws = await createTestWorkspace(rapport);
    const api = client(rapport, ws.token, ws.workspaceId);
    const s = await signIn(rapport, ws.owner.email, ws.owner.password);
    await rapport.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: ws.owner.email, password: 'wrong-password-xyzzy' } });
    const body = 'my card number is 4111 1111 1111 1111 and secret-body-marker';
    const c = (await api.post('/conversations', { customer: { email: 'log@example.test' }, subject: 'subject-marker', message: { body } })).json();
    await api.post(`/conversations/${c.id}/messages`, { type: 'note', body: 'note-body-marker' });
    const created = (
      await rapport.app.inject({
        method: 'POST',
        url: `/api/v1/workspaces/${ws.workspaceId}/tokens`,
        headers: { cookie: s.cookie, 'x-csrf-token': s.csrfToken },
        payload: { name: 'log-test', currentPassword: ws.owner.password },
      })
    ).json();
    expect(created.token).toMatch(/^rpt_/);
    await api.post('/conversations', { customer: { email: 'log@example.test' }, message: { body: 42 } });
    // A search carries what the agent typed (often a customer's email): the URL is logged without it.
    await api.get(`/conversations?q=${encodeURIComponent('searched.customer@private.test')}&limit=5`);

    const lines = captured
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.length).toBeGreaterThan(5);
    expect(lines.some((l) => l.msg === 'request completed' && l.res?.statusCode === 201)).toBe(true);
    expect(lines.some((l) => typeof l.req?.url === 'string' && l.req.url.endsWith('/conversations?q=*&limit=*'))).toBe(true);
    for (const secret of [
      'searched.customer',
      ws.owner.password,
      'wrong-password-xyzzy',
      ws.token,
      created.token,
      s.cookie.split('=')[1],
      s.csrfToken,
      'secret-body-marker',
      '4111 1111 1111 1111',
      'note-body-marker',
    ]) {
      expect(captured).not.toContain(secret);
    }
  });
});
