import path from 'node:path';
import { createConfig, lintFromString } from '@redocly/openapi-core';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOCS } from './e2e/browser.js';
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
    const login = await run('auth-postAuthLogin', { email: 'admin@rapport.local', password: 'docs-password-123' });
    expect(login).toContain('"csrfToken"');
    const created = await run('workspaces-createWorkspace', { name: 'From the docs', slug: 'from-the-docs' });
    expect(created).toMatch(/201.*"slug": "from-the-docs"/);
    await page.screenshot({ path: path.join(DOCS, 'api-docs.png') });
    expect(errors).toEqual([]);
  }, 90_000); // a browser and argon2 sign-in: slow on a busy machine
});

type Operation = {
  operationId?: string;
  summary?: string;
  description?: string;
  security?: unknown[];
  responses: Record<string, { content?: Record<string, { schema?: { $ref?: string }; example?: unknown; examples?: unknown }> }>;
};

describe('the OpenAPI document, as a guide (issue #10)', () => {
  it('gives every operation a unique id, a description, named response schemas and an example of each success', async () => {
    const doc = (await rapport.app.inject({ method: 'GET', url: '/api/openapi.json' })).json() as {
      paths: Record<string, Record<string, Operation>>;
      components: { schemas: Record<string, unknown> };
    };
    const ids = new Set<string>();
    const problems: string[] = [];
    let operations = 0;
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        operations++;
        const where = `${method.toUpperCase()} ${path}`;
        if (!op.operationId) problems.push(`${where}: no operationId`);
        else if (ids.has(op.operationId)) problems.push(`${where}: operationId ${op.operationId} used twice`);
        else ids.add(op.operationId);
        if (!op.summary?.trim()) problems.push(`${where}: no summary`);
        if (!op.description || op.description.trim().length < 20) problems.push(`${where}: no description`);
        for (const [status, response] of Object.entries(op.responses)) {
          for (const [type, media] of Object.entries(response.content ?? {})) {
            const ref = media.schema?.$ref;
            if (!ref?.startsWith('#/components/schemas/') || !(ref.slice('#/components/schemas/'.length) in doc.components.schemas))
              problems.push(`${where} ${status}: the schema is not a named component`);
            if (status.startsWith('2') && type.includes('json') && media.example === undefined && media.examples === undefined) problems.push(`${where} ${status}: no example`);
          }
        }
      }
    }
    expect(operations).toBeGreaterThan(60);
    expect(problems).toEqual([]);
    // Signing in needs nothing: the login operation says so; others keep the document's security.
    expect(doc.paths['/api/v1/auth/login'].post.security).toEqual([]);
    expect(doc.paths['/api/v1/auth/session'].get.security).toBeUndefined();
    expect(doc.components.schemas.Problem).toMatchObject({ properties: { code: { type: 'string' } } });
  });

  it('is clean under a standard OpenAPI linter (Redocly, recommended rules), so client generators read it', async () => {
    const source = (await rapport.app.inject({ method: 'GET', url: '/api/openapi.json' })).body;
    const config = await createConfig({
      extends: ['recommended'],
      // A public probe (GET /auth/capabilities) has no client error to document; every other
      // operation names its 4XX answers, which the test above checks as named schemas.
      rules: { 'operation-4xx-response': 'off' },
    });
    const problems = await lintFromString({ source, absoluteRef: 'openapi.json', config });
    expect(problems.map((p) => `${p.severity} ${p.ruleId}: ${p.message} at ${p.location?.[0]?.pointer}`)).toEqual([]);
  });
});
