import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWithWorkspace, type TestServer, type TestWorkspace } from '../helpers.js';
import { ensureWebBuilt, launchBrowser, watchedPage } from './browser.js';

/**
 * L6: every HTML route carries the security headers (CSP with frame-ancestors 'none', nosniff,
 * Referrer-Policy, X-Frame-Options), /api/docs included, and Swagger UI still works under its CSP.
 */
let rapport: TestServer;
let ws: TestWorkspace;
let browser: Browser;

beforeAll(async () => {
  await ensureWebBuilt();
  ({ rapport, ws } = await startWithWorkspace());
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await rapport?.stop();
});

function htmlRoutes(): string[] {
  return [
    '/', // the web app
    '/login',
    `/w/${ws.workspaceId}/v/mine`, // a deep link
    '/accept-invitation', // the invitation accept page (a client route; the token is in the fragment)
    '/admin',
    '/api/docs', // Swagger UI, with and without the slash, and its own static HTML files
    '/api/docs/',
    '/api/docs/static/index.html',
    '/api/docs/static/oauth2-redirect.html',
  ];
}

describe('security headers', () => {
  it('are on every HTML route', async () => {
    const seen: string[] = [];
    for (const url of htmlRoutes()) {
      const res = await fetch(`${rapport.url}${url}`, { headers: { accept: 'text/html' }, redirect: 'manual' });
      if (res.status >= 300 && res.status < 400) {
        // A redirect (/api/docs -> /api/docs/) carries the headers too; its target is in the list.
        expect(res.headers.get('x-content-type-options'), url).toBe('nosniff');
        continue;
      }
      expect(res.status, url).toBe(200);
      expect(res.headers.get('content-type'), url).toMatch(/^text\/html/);
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp, url).toMatch(/frame-ancestors 'none'/);
      expect(csp, url).toMatch(/script-src 'self'(;|$)/);
      expect(csp, url).toMatch(/object-src 'none'/);
      expect(res.headers.get('x-frame-options'), url).toBe('DENY');
      expect(res.headers.get('x-content-type-options'), url).toBe('nosniff');
      expect(res.headers.get('referrer-policy'), url).toBe('no-referrer');
      seen.push(url);
    }
    expect(seen).toEqual(expect.arrayContaining(['/', '/accept-invitation', '/api/docs/', '/api/docs/static/oauth2-redirect.html']));
  });

  it('nosniff and Referrer-Policy are on JSON, problems and assets too', async () => {
    for (const url of ['/healthz', '/api/openapi.json', '/api/v1/auth/session', '/api/docs/static/swagger-ui.css']) {
      const res = await fetch(`${rapport.url}${url}`);
      expect(res.headers.get('x-content-type-options'), url).toBe('nosniff');
      expect(res.headers.get('referrer-policy'), url).toBe('no-referrer');
    }
  });

  it('Swagger UI loads and lists the operations under its CSP, with no violation', { timeout: 120_000 }, async () => {
    const context = await browser.newContext();
    const w = await watchedPage(context);
    const violations: string[] = [];
    await w.page.exposeFunction('reportViolation', (v: string) => violations.push(v));
    await w.page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) => (window as unknown as { reportViolation(v: string): void }).reportViolation(`${e.violatedDirective} ${e.blockedURI}`));
    });
    await w.page.goto(`${rapport.url}/api/docs/`, { waitUntil: 'domcontentloaded', timeout: 60_000 });
    await w.page.waitForSelector('.opblock', { timeout: 60_000 });
    expect(await w.page.locator('.opblock').count()).toBeGreaterThan(10);
    expect(w.cspViolations).toEqual([]);
    expect(violations).toEqual([]);
    expect(w.pageErrors).toEqual([]);
    await context.close();
  });

  it('the docs and the app cannot be framed by another page', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const blocked: string[] = [];
    page.on('console', (m) => /frame-ancestors|Refused to (display|frame)/i.test(m.text()) && blocked.push(m.text()));
    // An attacker's page (another origin: about:blank with content) framing both.
    await page.setContent(`<iframe id="a" src="${rapport.url}/api/docs/"></iframe><iframe id="b" src="${rapport.url}/"></iframe>`);
    await expect.poll(() => blocked.length, { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
    for (const frame of page.frames().slice(1)) {
      // A refused frame shows an error page, never the docs or the app.
      expect(await frame.locator('.opblock, #root > *').count()).toBe(0);
    }
    await context.close();
  });
});
