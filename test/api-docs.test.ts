import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers.js';

/** "Drive the API from /api/docs": sign in on the docs page, then a write succeeds from it. */
let rapport: TestServer;
let browser: Browser;

beforeAll(async () => {
  rapport = await startTestServer({ seedDemo: true, config: { adminPassword: 'docs-password-123' } });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
});
afterAll(async () => {
  await browser?.close();
  await rapport?.stop();
});

describe('the API docs page', () => {
  it('lets a person sign in and then create something, the CSRF token carried for them', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1400 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${rapport.url}/api/docs/`);
    const run = async (id: string, body: unknown) => {
      const op = `#operations-${id}`;
      await page.click(`${op} .opblock-summary`);
      await page.click(`${op} .try-out__btn`);
      await page.fill(`${op} textarea.body-param__text`, JSON.stringify(body));
      await page.click(`${op} .execute`);
      await page.waitForSelector(`${op} .live-responses-table .response-col_status`);
      return (await page.textContent(`${op} .live-responses-table`))!.replace(/\s+/g, ' ');
    };
    const login = await run('auth-post_api_v1_auth_login', { email: 'admin@rapport.local', password: 'docs-password-123' });
    expect(login).toContain('"csrfToken"');
    const created = await run('workspaces-createWorkspace', { name: 'From the docs', slug: 'from-the-docs' });
    expect(created).toMatch(/201.*"slug": "from-the-docs"/);
    expect(errors).toEqual([]);
  }, 90_000); // a browser and argon2 sign-in: slow on a busy machine
});
