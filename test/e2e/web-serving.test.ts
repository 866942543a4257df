import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMPRESS_THRESHOLD_BYTES } from '../../src/http/compression.js';
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

  it('sends assets pre-compressed by what the request accepts (brotli, then gzip), and plain when it accepts neither', async () => {
    const index = (await get('/')).body;
    const main = /src="\/assets\/([^"]+\.js)"/.exec(index)![1];
    const raw = readFileSync(path.join(WEB_DIST, 'assets', main));
    const asset = (encoding?: string) => rapport.app.inject({ method: 'GET', url: `/assets/${main}`, headers: { accept: '*/*', ...(encoding === undefined ? {} : { 'accept-encoding': encoding }) } });

    // What Chromium sends: brotli is preferred.
    const br = await asset('gzip, deflate, br, zstd');
    expect(br.statusCode).toBe(200);
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers['content-type']).toContain('javascript');
    expect(br.headers.vary).toMatch(/accept-encoding/i);
    expect(br.headers['cache-control']).toContain('immutable');
    expect(Number(br.headers['content-length'])).toBe(br.rawPayload.length);
    expect(br.rawPayload.length).toBeLessThan(raw.length / 2);
    expect(brotliDecompressSync(br.rawPayload).equals(raw)).toBe(true);

    const gz = await asset('gzip');
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gz.headers['content-type']).toContain('javascript');
    expect(Number(gz.headers['content-length'])).toBe(gz.rawPayload.length);
    expect(gunzipSync(gz.rawPayload).equals(raw)).toBe(true);

    for (const plain of [await asset(), await asset('identity'), await asset('deflate')]) {
      expect(plain.statusCode).toBe(200);
      expect(plain.headers['content-encoding']).toBeUndefined();
      expect(plain.headers.vary).toMatch(/accept-encoding/i);
      expect(plain.rawPayload.equals(raw)).toBe(true);
    }
  });

  it('compresses a large JSON answer on the fly, not a small one, and not for a client that does not accept it', async () => {
    const json = (encoding?: string, url = '/api/openapi.json') =>
      rapport.app.inject({ method: 'GET', url, headers: { accept: 'application/json', ...(encoding === undefined ? {} : { 'accept-encoding': encoding }) } });
    const plain = await json();
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.rawPayload.length).toBeGreaterThan(COMPRESS_THRESHOLD_BYTES);
    const spec = plain.json();

    const br = await json('gzip, deflate, br');
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers['content-type']).toContain('application/json');
    expect(br.headers.vary).toMatch(/accept-encoding/i);
    expect(br.rawPayload.length).toBeLessThan(plain.rawPayload.length / 3);
    expect(JSON.parse(brotliDecompressSync(br.rawPayload).toString('utf8'))).toEqual(spec);

    const gz = await json('gzip');
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(JSON.parse(gunzipSync(gz.rawPayload).toString('utf8'))).toEqual(spec);

    expect((await json('identity')).headers['content-encoding']).toBeUndefined();
    // Below the threshold: as it is.
    const small = await json('gzip, br', '/healthz');
    expect(small.headers['content-encoding']).toBeUndefined();
    expect(small.json()).toEqual({ status: 'ok' });
  });
});
