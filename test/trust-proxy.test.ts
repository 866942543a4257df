import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestWorkspace, startTestServer, type TestServer } from './helpers.js';

/**
 * Per-address throttles behind a reverse proxy (issue #8, review of M1/L1): only a proxy named in
 * TRUST_PROXY may say who the client is; anyone else's X-Forwarded-For is ignored, or a guesser
 * would pick a new address for every try.
 */
async function wrongPasswords(rapport: TestServer, email: string, forwardedFor: (i: number) => string, count: number): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < count; i++) {
    const res = await rapport.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      headers: { 'x-forwarded-for': forwardedFor(i) },
      payload: { email, password: `wrong password number ${i}` },
    });
    statuses.push(res.statusCode);
  }
  return statuses;
}

describe('the client address behind a proxy', () => {
  let untrusted: TestServer;
  let trusted: TestServer;
  beforeAll(async () => {
    [untrusted, trusted] = await Promise.all([startTestServer(), startTestServer({ config: { trustProxy: ['127.0.0.1/32'] } })]);
  });
  afterAll(async () => {
    await Promise.all([untrusted?.stop(), trusted?.stop()]);
  });

  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', async () => {
    const { owner } = await createTestWorkspace(untrusted);
    const statuses = await wrongPasswords(untrusted, owner.email, (i) => `198.51.100.${i + 1}`, 11);
    expect(statuses.slice(0, 10).every((s) => s === 401)).toBe(true);
    expect(statuses[10]).toBe(429);
  }, 90_000);

  it('counts each client behind a trusted proxy by its own address', async () => {
    const { owner } = await createTestWorkspace(trusted);
    const first = await wrongPasswords(trusted, owner.email, () => '198.51.100.7', 11);
    expect(first[10]).toBe(429);
    // Another client behind the same proxy is not held up by the first one's guesses.
    const other = await trusted.app.inject({ method: 'POST', url: '/api/v1/auth/login', headers: { 'x-forwarded-for': '203.0.113.8' }, payload: { email: owner.email, password: owner.password } });
    expect(other.statusCode).toBe(200);
  }, 90_000);
});
