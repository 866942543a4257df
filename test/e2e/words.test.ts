import path from 'node:path';
import type { Browser, BrowserContext, WebSocketRoute } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addMember } from '../../src/modules/workspaces/workspaces.service.js';
import { type client, signIn, startWithWorkspace, type TestServer, type TestWorkspace } from '../helpers.js';
import { DOCS, ensureWebBuilt, launchBrowser, signInThroughTheForm, watchedPage } from './browser.js';

/**
 * Issue #10, "in people's words" and layout: the timeline says what people did, the list says who
 * wrote last and when a snooze ends, the header names the assignee, a lost connection is said plainly,
 * a bad tag is refused with a sentence (never a JSON path or a regular expression); the thread gets
 * most of the height at 1280x800 and the app is usable at 390 px (docs/mobile.png).
 */
let rapport: TestServer;
let ws: TestWorkspace;
let api: ReturnType<typeof client>;
let browser: Browser;
const contexts: BrowserContext[] = [];
const password = 'another long password';
let bo: { id: string };
let ana: { id: string };

beforeAll(async () => {
  await ensureWebBuilt();
  ({ rapport, ws, api } = await startWithWorkspace());
  const deps = { pool: rapport.pool, clock: rapport.server.clock, workspaceId: ws.workspaceId, actor: { type: 'user' as const, id: ws.owner.id } };
  ana = await addMember(deps, 'owner', { email: 'ana@team.test', name: 'Ana Lopez', role: 'agent', password });
  bo = await addMember(deps, 'owner', { email: 'bo@team.test', name: 'Bo Berg', role: 'agent', password });
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  await rapport?.stop();
});

/** Bo acts from his own session, so the timeline names him. */
async function asBo(method: 'PATCH' | 'POST', url: string, payload: unknown) {
  const s = await signIn(rapport, 'bo@team.test', password);
  const res = await rapport.app.inject({ method, url: `/api/v1/workspaces/${ws.workspaceId}${url}`, headers: { cookie: s.cookie, 'x-csrf-token': s.csrfToken }, payload: payload as object });
  expect(res.statusCode).toBeLessThan(300);
}

async function anaIn(viewport: { width: number; height: number }) {
  const context = await browser.newContext({ viewport });
  context.setDefaultTimeout(20_000);
  contexts.push(context);
  return { context, ...(await watchedPage(context)) };
}

const noSideScroll = (page: import('playwright-core').Page) => page.evaluate(() => document.scrollingElement!.scrollWidth);

describe("the agent app in people's words", () => {
  it('says what happened in sentences, who wrote last, when a snooze ends, a lost connection and a bad tag, and gives the thread the height', async () => {
    const c = (
      await api.post('/conversations', { customer: { email: 'pia@customer.test', name: 'Pia Noor' }, subject: 'Cracked lid on my teapot', message: { body: 'The lid arrived cracked.' } })
    ).json();
    await asBo('PATCH', `/conversations/${c.id}`, { assigneeId: ana.id, priority: 'high', tags: ['breakage'] });
    const later = (
      await api.post('/conversations', { customer: { email: 'lee@customer.test', name: 'Lee Park' }, subject: 'Invoice copy', message: { body: 'Could you send the invoice again?' } })
    ).json();
    const wake = new Date(Date.now() + 3 * 86_400_000);
    wake.setHours(9, 0, 0, 0);
    await asBo('PATCH', `/conversations/${later.id}`, { status: 'snoozed', snoozedUntil: wake.toISOString() });

    const { page, pageErrors } = await anaIn({ width: 1280, height: 800 });
    // Every realtime socket of this page goes through the test, which can drop it like a lost network.
    const sockets: WebSocketRoute[] = [];
    await page.routeWebSocket(/\/api\/v1\/realtime/, (socket) => {
      socket.connectToServer();
      sockets.push(socket);
    });
    await signInThroughTheForm(page, rapport.url, 'ana@team.test', password);
    await page.goto(`${rapport.url}/w/${ws.workspaceId}/v/all/c/${c.id}`);

    // The timeline: sentences about people, never an event's type.
    const thread = page.getByTestId('thread');
    await thread.getByText('Bo Berg assigned this to Ana Lopez').waitFor();
    await thread.getByText('Bo Berg set the priority to high').waitFor();
    await thread.getByText('Bo Berg added #breakage').waitFor();
    expect(await page.locator('.app').innerText()).not.toMatch(/conversation\.|message\.(created|updated)|_changed/);
    // The header names the assignee.
    await page.locator('.conversation-assignee', { hasText: 'Assigned to you' }).waitFor();

    // The composer is one line until used: the thread has most of the height.
    const composer = page.getByRole('form', { name: 'Composer' });
    const compact = (await composer.boundingBox())!.height;
    const threadHeight = (await thread.boundingBox())!.height;
    expect(compact).toBeLessThan(110);
    expect(threadHeight).toBeGreaterThan(800 * 0.5);
    await page.getByLabel('Reply to the customer').fill('A new lid is on its way.');
    expect((await composer.boundingBox())!.height).toBeGreaterThan(compact);
    await page.getByRole('button', { name: 'Send reply' }).click();
    await thread.getByText('A new lid is on its way.').waitFor();

    // The list says who wrote last: Ana's own reply is "You: …".
    const row = page.locator(`[data-conversation-id="${c.id}"]`);
    await row.locator('.row-preview', { hasText: 'You: A new lid is on its way.' }).waitFor();

    // A bad tag is refused with a sentence a person reads, on the screen where it was typed.
    await page.getByLabel('Add tag').fill('#urgent!');
    await page.getByLabel('Add tag').press('Enter');
    // Under the tag box it is about (its description), not as a banner for the whole screen.
    const refusal = page.locator('.tags .field-error');
    await refusal.getByText('Tags start with a letter or a digit and may use letters, digits, spaces and - _ . : /').waitFor();
    expect(await refusal.innerText()).not.toMatch(/body\.|\^|\\p\{|pattern|must match/);
    expect(await page.getByLabel('Add tag').getAttribute('aria-describedby')).toBe('tag-error');
    await page.screenshot({ path: path.join(DOCS, 'words.png') });

    // A lost connection is said plainly, and the banner goes when the connection is back.
    await page.waitForFunction(() => document.querySelector('.conn-live') !== null);
    expect(sockets.length).toBeGreaterThan(0);
    await sockets[sockets.length - 1].close({ code: 4000, reason: 'network lost (test)' });
    const banner = page.getByTestId('connection-banner');
    await banner.getByText('Reconnecting… changes may be a few seconds late.').waitFor();
    await banner.waitFor({ state: 'detached', timeout: 60_000 });
    expect(sockets.length).toBeGreaterThan(1);

    // The snoozed list shows when each conversation wakes.
    await page.goto(`${rapport.url}/w/${ws.workspaceId}/v/snoozed`);
    const snoozedRow = page.locator(`[data-conversation-id="${later.id}"]`);
    await snoozedRow.locator('.row-wakes', { hasText: /^Wakes / }).waitFor();
    expect(await snoozedRow.locator('.row-wakes').innerText()).toMatch(/9:00/);

    // An HTML email's frame is as tall as its content: a two-line email is short, a long one is not read through a slot.
    const short = (await api.post('/conversations', { customer: { email: 'kim@customer.test' }, subject: 'Thanks', message: { body: 'Thanks!', html: '<p>Thanks!</p><p>Kim</p>' } })).json();
    const paragraphs = Array.from({ length: 30 }, (_, i) => `<p>Paragraph ${i + 1}: the order left our warehouse and the courier will call before delivery.</p>`).join('');
    const long = (await api.post('/conversations', { customer: { email: 'kim@customer.test' }, subject: 'Newsletter', message: { body: 'Newsletter', html: paragraphs } })).json();
    const frameHeightOf = async (id: string) => {
      await page.goto(`${rapport.url}/w/${ws.workspaceId}/v/all/c/${id}`);
      const frame = page.getByTitle('Email content');
      await frame.waitFor();
      return (await frame.boundingBox())!.height;
    };
    expect(await frameHeightOf(short.id)).toBeLessThan(160);
    expect(await frameHeightOf(long.id)).toBeGreaterThan(450);
    expect(pageErrors).toEqual([]);
  }, 180_000);

  it('is usable at 390 px: the list and the thread are separate screens and nothing scrolls sideways (docs/mobile.png)', async () => {
    const c = (
      await api.post('/conversations', { customer: { email: 'sam@customer.test', name: 'Sam Ortiz' }, subject: 'Where is order 2210?', message: { body: 'It has been a week, is it on its way?' } })
    ).json();
    await asBo('PATCH', `/conversations/${c.id}`, { assigneeId: bo.id });
    const { page, pageErrors } = await anaIn({ width: 390, height: 844 });
    await signInThroughTheForm(page, rapport.url, 'ana@team.test', password);
    await page.goto(`${rapport.url}/w/${ws.workspaceId}/v/all`);
    const row = page.locator(`[data-conversation-id="${c.id}"]`);
    await row.waitFor();
    expect(await noSideScroll(page)).toBeLessThanOrEqual(390);
    await row.click();
    await page.getByTestId('thread').getByText('It has been a week, is it on its way?').waitFor();
    await page.locator('.conversation-assignee', { hasText: 'Assigned to Bo Berg' }).waitFor();
    // The list has given way to the thread, which fills the width; back returns to the list.
    expect(await page.getByTestId('conversation-list').isVisible()).toBe(false);
    expect(await noSideScroll(page)).toBeLessThanOrEqual(390);
    await page.screenshot({ path: path.join(DOCS, 'mobile.png') });
    await page.getByRole('button', { name: 'Back to the list' }).click();
    await row.waitFor();
    expect(await noSideScroll(page)).toBeLessThanOrEqual(390);
    expect(pageErrors).toEqual([]);
  }, 120_000);
});
