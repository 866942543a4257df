import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addTestMember, startWithWorkspace, type TestServer } from '../helpers.js';
import { DOCS, ensureWebBuilt, launchBrowser, signInThroughTheForm, watchedPage } from './browser.js';

/**
 * A provider's client company reads its workspace through a client_viewer account: the customers'
 * messages and the agents' replies, never the agents' internal notes, and no way to write.
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

describe('a client viewer in the agent app', () => {
  it('reads the conversation and its replies, but not the internal notes, and cannot write', async () => {
    const started = await startWithWorkspace();
    rapport = started.rapport;
    const { ws, api } = started;
    const viewer = await addTestMember(rapport, ws, 'client_viewer', 'claire');
    const created = (
      await api.post('/conversations', {
        customer: { email: 'jonas.weber@example.com', name: 'Jonas Weber' },
        subject: 'Invoice 2024-118 charged twice',
        message: { body: 'My card was charged twice for invoice 2024-118. Can you refund one of them?' },
      })
    ).json();
    await api.post(`/conversations/${created.id}/messages`, { type: 'reply', body: 'You are right, Jonas: the second charge is refunded and shows within 3 days.' });
    await api.post(`/conversations/${created.id}/messages`, { type: 'note', body: 'PRIVATE: the payment provider retried after a timeout; ticket PAY-881 filed.' });

    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const { page, pageErrors } = await watchedPage(context);
    await signInThroughTheForm(page, rapport.url, viewer.email, viewer.password);
    await page.goto(`${rapport.url}/w/${ws.workspaceId}/v/open/c/${created.id}`);
    await page.waitForSelector('[data-testid="thread"] .message-outbound:has-text("the second charge is refunded")');
    await page.waitForSelector('[data-testid="thread"] .message-inbound:has-text("charged twice")');
    expect(await page.locator('.message-note').count()).toBe(0);
    expect(await page.content()).not.toContain('PAY-881');
    await page.waitForSelector('.read-only-note:has-text("read-only access")');
    expect(await page.getByRole('button', { name: 'Send reply' }).count()).toBe(0);
    await page.screenshot({ path: path.join(DOCS, 'screenshot-client-viewer.png') });
    expect(pageErrors).toEqual([]);
    await context.close();
  }, 90_000);
});
