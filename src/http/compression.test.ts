import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerCompression } from './compression.js';
import type { App } from './types.js';

/** Which answers are compressed on the fly: a secret beside caller-chosen text never is (BREACH). */
let app: App;
const big = (secret: string) => ({ secret, filler: 'x'.repeat(8_192) });

beforeAll(async () => {
  app = Fastify() as unknown as App;
  await registerCompression(app);
  app.get('/api/v1/plain', async () => big('none'));
  app.get('/api/v1/session', { config: { secretAnswer: true } }, async () => big('csrf'));
  app.post('/api/v1/tokens', { config: { idempotency: { replay: false } } }, async () => big('token'));
  await app.ready();
});

afterAll(async () => {
  await app.close();
});

const encodingOf = async (method: 'GET' | 'POST', url: string) => (await app.inject({ method, url, headers: { 'accept-encoding': 'br, gzip' } })).headers['content-encoding'];

describe('compression of API answers', () => {
  it('compresses a large answer that carries no secret', async () => {
    expect(await encodingOf('GET', '/api/v1/plain')).toBe('br');
  });

  it('never compresses an answer marked secretAnswer, nor one an Idempotency-Key may not replay (a credential)', async () => {
    expect(await encodingOf('GET', '/api/v1/session')).toBeUndefined();
    expect(await encodingOf('POST', '/api/v1/tokens')).toBeUndefined();
  });
});
