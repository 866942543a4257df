import { readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOCS_CSP } from '../../src/http/security-headers.js';
import { WEB_DIST } from '../../src/modules/web/web.module.js';
import { startTestServer, type TestServer } from '../helpers.js';
import { ensureWebBuilt } from './browser.js';

/** How the server hands out the web app: client routes, assets, and the security headers on pages. */
let rapport: TestServer;

beforeAll(async () => {
  await ensureWebBuilt();
  rapport = await startTestServer();
}, 120_000);

afterAll(async () => {
  await rapport?.stop();
});

const get = (url: string, accept = 'text/html') => rapport.app.inject({ method: 'GET', url, headers: { accept } });

describe('serving the web app', () => {
  it('answers every client route with index.html and a strict Content-Security-Policy', async () => {
    for (const url of ['/', '/login', `/w/${'0'.repeat(8)}-0000-0000-0000-000000000000/v/mine/c/abc`]) {
      const res = await get(url);
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toContain('text/html');
      expect(res.body).toContain('<div id="root">');
      const csp = String(res.headers['content-security-policy']);
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toMatch(/script-src[^;]*(unsafe-inline|unsafe-eval)/);
      expect(csp).toContain("object-src 'none'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain("frame-src 'none'");
      expect(csp).toContain("base-uri 'none'");
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['referrer-policy']).toBe('no-referrer');
      expect(res.headers['cache-control']).toBe('no-cache');
    }
  });

  it('serves hashed assets for a year, and index.html references only same-origin scripts', async () => {
    const index = (await get('/')).body;
    expect(index).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    const asset = readdirSync(path.join(WEB_DIST, 'assets')).find((f) => f.endsWith('.js'))!;
    const res = await get(`/assets/${asset}`, '*/*');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('javascript');
    expect(res.headers['cache-control']).toContain('immutable');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect((await get('/assets/missing.js', '*/*')).statusCode).toBe(404);
  });

  it('leaves the API, the API docs and non-HTML requests alone', async () => {
    const api = await get('/api/v1/no-such-thing');
    expect(api.statusCode).toBe(404);
    expect(api.headers['content-type']).toContain('application/problem+json');
    const docs = await get('/api/docs/');
    expect(docs.statusCode).toBe(200);
    // Swagger UI, not the app, under its own policy (L6: test/e2e/security-headers.test.ts).
    expect(docs.body).toContain('swagger-ui');
    expect(docs.headers['content-security-policy']).toBe(DOCS_CSP);
    expect((await get('/healthz', 'application/json')).json()).toEqual({ status: 'ok' });
    const json = await get('/w/x/v/mine', 'application/json');
    expect(json.statusCode).toBe(404);
    expect((await rapport.app.inject({ method: 'POST', url: '/w/x' })).statusCode).toBe(404);
  });
});
