import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmailModule } from '../../src/modules/channels/email/email.module.js';
import { createEmailInbox, startSink } from '../../src/modules/channels/email/email.testing.js';
import { modules } from '../../src/modules/index.js';
import { client, createTestWorkspace, eventually, startTestServer, type TestServer, type TestWorkspace } from '../helpers.js';
import { DOCS, ensureWebBuilt, launchBrowser, signInThroughTheForm, watchedPage } from './browser.js';

/**
 * The Customers screen (issue #10) as an agent uses it: find a customer, fix their phone (a wrong
 * one is refused in plain words), keep a note, and write to them first by email: the mail reaches
 * the inbox's SMTP server (a local sink).
 */
let rapport: TestServer;
let ws: TestWorkspace;
let browser: Browser;
let sink: Awaited<ReturnType<typeof startSink>>;

beforeAll(async () => {
  await ensureWebBuilt();
  sink = await startSink();
  rapport = await startTestServer({ modules: modules.map((m) => (m.name === 'email' ? createEmailModule({ smtpTimeoutMs: 5000 }) : m)) });
  ws = await createTestWorkspace(rapport);
  await createEmailInbox(rapport, ws, { addresses: ['support@shop.test'], fromName: 'Shop Support', smtp: { host: '127.0.0.1', port: sink.port, tls: 'none' } });
  const api = client(rapport, ws.token, ws.workspaceId);
  await api.post('/conversations', { customer: { email: 'bo@builder.test', name: 'Bo Builder' }, subject: 'Invoice copy', message: { body: 'Could you resend the invoice?' } });
  await api.post('/customers', { name: 'Carla Diaz', email: 'carla@diaz.test', phone: '+34 912 345 678' });
  await api.post('/customers', { name: 'Dev Patel', email: 'dev@patel.test', customAttributes: { plan: 'pro' } });
  await api.post('/customers', { name: 'Ann Lee', email: 'ann@lee.test', customAttributes: { plan: 'team', seats: 12 } });
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await rapport?.stop();
  await sink?.close();
});

describe('the Customers screen', () => {
  it('finds a customer, edits their phone and note, and starts an email conversation that reaches the customer', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    context.setDefaultTimeout(15_000);
    const { page, pageErrors } = await watchedPage(context);
    await signInThroughTheForm(page, rapport.url, ws.owner.email, ws.owner.password);

    await page.getByRole('link', { name: 'Customers' }).click();
    await page.getByRole('heading', { name: 'Customers' }).waitFor();
    await page.locator('.customers-table').getByText('Carla Diaz').waitFor();
    await page.getByLabel('Conversations').selectOption('yes');
    await expect.poll(async () => page.locator('.customers-table tbody tr').allInnerTexts(), { timeout: 15_000 }).toEqual([expect.stringContaining('Bo Builder')]);
    await page.getByLabel('Conversations').selectOption('');
    await page.locator('.customers-table').getByText('Ann Lee').waitFor();
    await page.screenshot({ path: path.join(DOCS, 'customers.png') });

    await page.getByLabel('Search customers').fill('ann@lee.test');
    await page.getByRole('button', { name: 'Search' }).click();
    await expect.poll(async () => page.locator('.customers-table tbody tr').count()).toBe(1);
    await page.locator('.customers-table').getByRole('link', { name: 'Ann Lee' }).click();
    await page.getByRole('heading', { name: /Ann Lee/ }).waitFor();

    // A phone without its country code is refused in people's words; in international form it is kept.
    await page.getByLabel('Kind').selectOption('phone');
    await page.getByLabel('New phone number').fill('020 7946 0958');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await expect.poll(async () => page.getByRole('alert').textContent()).toContain('international form');
    await page.getByLabel('New phone number').fill('+44 20 7946 0958');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await page.locator('.identities').getByText('+442079460958').waitFor();
    // Carla holds that one: the refusal says so, and names nobody.
    await page.getByLabel('Kind').selectOption('phone');
    await page.getByLabel('New phone number').fill('+34 912 345 678');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await expect.poll(async () => page.getByRole('alert').textContent()).toBe('Another customer already has this email address or phone number.');

    await page.getByRole('button', { name: 'Edit name' }).click();
    await page.getByLabel('Name').fill('Ann Lee-Walker');
    await page.getByRole('button', { name: 'Save name' }).click();
    await page.getByRole('heading', { name: /Ann Lee-Walker/ }).waitFor();
    await page.getByLabel(/Notes/).fill('Team plan renewal in March; prefers email.');
    await page.getByRole('button', { name: 'Save notes' }).click();
    await page.getByText('Saved').waitFor();

    await page.getByRole('button', { name: 'New conversation' }).click();
    const form = page.getByRole('form', { name: 'New conversation' });
    await form.getByLabel('Subject').fill('Your renewal');
    await form.getByLabel('Message').fill('Hello Ann, your team plan renews in March. Shall we keep 12 seats?');
    await form.getByRole('button', { name: 'Send' }).click();
    // The new conversation opens, and the mail reaches the customer's address.
    await page.locator('[data-testid="thread"]').getByText('Shall we keep 12 seats?').waitFor();
    const mail = await eventually(async () => sink.received.find((m) => m.raw.includes('Shall we keep 12 seats?')), 20_000);
    expect(mail.to).toEqual(['ann@lee.test']);
    expect(mail.raw).toMatch(/^Subject: Your renewal\r?$/m);

    // The customer sidebar leads back to the profile, which lists the conversation with its status.
    await page.getByRole('link', { name: 'Open profile' }).click();
    await page.locator('.profile-conversations').getByText('Your renewal').waitFor();
    await expect.poll(async () => page.locator('.profile-conversations li').first().textContent()).toMatch(/open.*email/i);
    expect(await page.getByLabel(/Notes/).inputValue()).toBe('Team plan renewal in March; prefers email.');
    await page.screenshot({ path: path.join(DOCS, 'customer-profile.png') });
    expect(pageErrors).toEqual([]);
    await context.close();
  }, 120_000);
});
