import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withSystem } from '../../src/db/tenancy.js';
import { client, createTestWorkspace, startTestServer, type TestServer, type TestWorkspace } from '../helpers.js';
import { ensureWebBuilt, launchBrowser, signInThroughTheForm } from './browser.js';

/**
 * Long histories stay fast: a 5,000-message thread is virtualized and paged from the API, and the
 * inbox pages in as the agent scrolls (cursor API), with only the visible rows in the DOM.
 */
let rapport: TestServer;
let ws: TestWorkspace;
let browser: Browser;
let page: Page;
let longId: string;
const CONVERSATIONS = 130;
const MESSAGES = 5000;

beforeAll(async () => {
  await ensureWebBuilt();
  rapport = await startTestServer();
  ws = await createTestWorkspace(rapport);
  const api = client(rapport, ws.token, ws.workspaceId);
  for (let i = 1; i <= CONVERSATIONS; i++) {
    const res = await api.post('/conversations', {
      customer: { email: `c${i}@example.test`, name: `Customer ${i}` },
      subject: `Subject ${i}`,
      message: { body: i === CONVERSATIONS ? 'Message 1' : `first message ${i}` },
    });
    if (res.statusCode !== 201) throw new Error(res.body);
    if (i === CONVERSATIONS) longId = res.json().id;
  }
  // The other 4,999 messages of the long thread, one second apart, straight into the table.
  await withSystem(rapport.pool, (tx) =>
    tx.query(
      `insert into messages (workspace_id, conversation_id, type, author_type, body_text, created_at)
       select $1, $2, (array['inbound', 'outbound', 'note'])[1 + i % 3], case when i % 3 = 0 then 'customer' else 'system' end,
              'Message ' || i, now() + i * interval '1 second'
       from generate_series(2, $3::int) i`,
      [ws.workspaceId, longId, MESSAGES],
    ),
  );
  browser = await launchBrowser();
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  context.setDefaultTimeout(10_000);
  page = await context.newPage();
  await signInThroughTheForm(page, rapport.url, ws.owner.email, ws.owner.password);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await rapport?.stop();
});

const numbersShown = (p: Page) =>
  p.locator('[data-testid="thread"] .message-text').evaluateAll((els) => els.map((e) => Number(e.textContent!.replace('Message ', ''))).filter((n) => !Number.isNaN(n)));

describe('long lists', () => {
  it('a conversation with 5,000 messages opens at its newest message and loads older pages on scroll, with few rows in the DOM', async () => {
    const t0 = Date.now();
    await page.goto(`${rapport.url}/w/${ws.workspaceId}/v/open/c/${longId}`);
    await page.waitForSelector(`[data-testid="thread"] .message-text:text-is("Message ${MESSAGES}")`);
    const openMs = Date.now() - t0;
    expect(openMs).toBeLessThan(5000);
    expect(await page.locator('[data-testid="thread"] .message').count()).toBeLessThan(40);

    const thread = page.locator('[data-testid="thread"]');
    let oldest = Math.min(...(await numbersShown(page)));
    expect(oldest).toBeGreaterThan(MESSAGES - 60);
    for (let i = 0; i < 20 && oldest > MESSAGES - 120; i++) {
      await thread.evaluate((el) => el.scrollTo(0, 0));
      await page.waitForTimeout(150);
      oldest = Math.min(oldest, ...(await numbersShown(page)));
    }
    // Two pages of 50 were fetched on demand; still only what is on screen is rendered.
    expect(oldest).toBeLessThanOrEqual(MESSAGES - 100);
    expect(await page.locator('[data-testid="thread"] .message').count()).toBeLessThan(40);
  });

  it('the timeline shows a status change made after more than 100 messages', async () => {
    const api = client(rapport, ws.token, ws.workspaceId);
    const c = (await api.post('/conversations', { customer: { email: 'chatty@example.test' }, subject: 'Chatty', message: { body: 'hello' } })).json();
    for (let i = 1; i <= 110; i++) expect((await api.post(`/conversations/${c.id}/messages`, { type: 'note', body: `Note ${i}` })).statusCode).toBe(201);
    expect((await api.patch(`/conversations/${c.id}`, { status: 'pending' })).statusCode).toBe(200);
    await page.goto(`${rapport.url}/w/${ws.workspaceId}/v/pending/c/${c.id}`);
    await page.waitForSelector('[data-testid="thread"] .message-text:text-is("Note 110")');
    await page.locator('.timeline-event[data-event-type="conversation.status_changed"]:has-text("set this to pending")').waitFor();
  });

  it('the inbox loads the next cursor page as the agent scrolls, keeping the DOM small', async () => {
    await page.goto(`${rapport.url}/w/${ws.workspaceId}/v/open`);
    await page.waitForSelector('.row');
    expect(await page.locator('.row').count()).toBeLessThan(40);
    const list = page.locator('[data-testid="conversation-list"]');
    // Newest first: "Subject 1" is the oldest conversation, on the third page.
    for (let i = 0; i < 30 && (await page.locator('.row-subject:text-is("Subject 1")').count()) === 0; i++) {
      await list.evaluate((el) => el.scrollTo(0, el.scrollHeight));
      await page.waitForTimeout(100);
    }
    await page.locator('.row-subject:text-is("Subject 1")').waitFor();
    expect(await page.locator('.row').count()).toBeLessThan(40);
  });
});
