import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWithWorkspace, type TestServer } from '../helpers.js';
import { DOCS, ensureWebBuilt, launchBrowser, signInThroughTheForm, watchedPage } from './browser.js';

/**
 * One search for everything (issue #10), as an agent uses it: "/" from the inbox, the customer's
 * email, Enter; the snoozed conversation is found (a search inside "All open" would not) with its wake
 * time, the customer beside it, and a click opens the conversation.
 */
let rapport: TestServer;
let browser: Browser;

beforeAll(async () => {
  await ensureWebBuilt();
  browser = await launchBrowser();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await rapport?.stop();
});

describe('the global search in the agent app', () => {
  it('finds a snoozed conversation by the customer’s email', async () => {
    const started = await startWithWorkspace();
    rapport = started.rapport;
    const { ws, api } = started;
    const ada = { email: 'ada.lovelace@example.com', name: 'Ada Lovelace' };
    const open = async (customer: Record<string, string>, subject: string, body: string) => (await api.post('/conversations', { customer, subject, message: { body } })).json();
    const resolved = await open(ada, 'Engine manual missing pages', 'Pages 12 to 16 of the manual are blank.');
    expect((await api.patch(`/conversations/${resolved.id}`, { status: 'resolved' })).statusCode).toBe(200);
    const snoozed = await open(ada, 'Refund for order 5531', 'The parcel came back to you last week: may I have my refund?');
    await api.post(`/conversations/${snoozed.id}/messages`, { type: 'reply', body: 'The warehouse checks the parcel on Thursday; we refund you then.' });
    const wake = new Date(Date.now() + 2 * 86_400_000);
    wake.setUTCHours(9, 0, 0, 0);
    expect((await api.patch(`/conversations/${snoozed.id}`, { status: 'snoozed', snoozedUntil: wake.toISOString() })).statusCode).toBe(200);
    await open({ email: 'grace@example.com', name: 'Grace Hopper' }, 'Invoice address', 'Please change the address on my invoices.');

    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const { page, pageErrors, cspViolations } = await watchedPage(context);
    await signInThroughTheForm(page, rapport.url, ws.owner.email, ws.owner.password);
    await page.goto(`${rapport.url}/w/${ws.workspaceId}/v/open`);
    await page.waitForSelector('[data-testid="conversation-list"]');
    // "/" from anywhere puts the cursor in the one search box.
    await page.keyboard.press('/');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe('Search everything');
    await page.keyboard.type(ada.email);
    await page.keyboard.press('Enter');

    const row = page.locator(`[data-testid="search-conversations"] [data-conversation-id="${snoozed.id}"]`);
    await row.waitFor();
    expect(await row.textContent()).toContain('Snoozed until');
    expect(await row.textContent()).toContain('Refund for order 5531');
    await page.locator(`[data-testid="search-conversations"] [data-conversation-id="${resolved.id}"]:has-text("Resolved")`).waitFor();
    expect(await page.locator('[data-testid="search-conversations"] [data-conversation-id]').count()).toBe(2);
    await page.locator('[data-testid="search-customers"] a:has-text("Ada Lovelace")').waitFor();
    expect(await page.locator('[data-testid="search-customers"] [data-customer-id]').count()).toBe(1);
    await page.screenshot({ path: path.join(DOCS, 'search.png') });

    // A filter narrows the conversations; the customer stays.
    await page.getByLabel('Status').selectOption('snoozed');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="search-conversations"] [data-conversation-id]').length === 1);

    // Words of a reply: the excerpt quotes it with the words marked (the filter stays).
    await page.getByLabel('Search everything').fill('Warehouse');
    await page.keyboard.press('Enter');
    await page.waitForSelector(`[data-conversation-id="${snoozed.id}"] .search-match mark:text-is("warehouse")`);
    expect(await row.locator('.search-match').textContent()).toContain('warehouse checks the parcel on Thursday');

    // Words nothing holds: said in people's words.
    await page.getByLabel('Search everything').fill('zzyzx-nothing');
    await page.keyboard.press('Enter');
    await page.waitForSelector('.state-empty:has-text("No conversation matches")');

    // Back to the results, and a click opens the conversation.
    await page.goBack();
    await row.click();
    await page.waitForURL(`**/c/${snoozed.id}`);
    await page.waitForSelector('[data-testid="thread"] :text("we refund you then")');

    // And a customer opens on their profile.
    await page.getByLabel('Search everything').fill(ada.email);
    await page.keyboard.press('Enter');
    await page.locator(`[data-customer-id="${snoozed.customer.id}"]`).click();
    await page.waitForURL(`**/customers/${snoozed.customer.id}`);
    await page.waitForSelector('.profile-name:has-text("Ada Lovelace")');
    expect(pageErrors).toEqual([]);
    expect(cspViolations).toEqual([]);
    await context.close();
  }, 120_000);
});
