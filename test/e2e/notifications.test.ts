import path from 'node:path';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withWorkspace } from '../../src/db/tenancy.js';
import { ingestInbound } from '../../src/modules/conversations/conversations.channels.js';
import { addMember } from '../../src/modules/workspaces/workspaces.service.js';
import { client, startWithWorkspace, type TestServer, type TestWorkspace } from '../helpers.js';
import { DOCS, ensureWebBuilt, launchBrowser, signInThroughTheForm, watchedPage } from './browser.js';

/** Issue #10, "a mention notifies the other agent live": two agents in two browsers. */
let rapport: TestServer;
let ws: TestWorkspace;
let browser: Browser;
const contexts: BrowserContext[] = [];
const password = 'another long password';

beforeAll(async () => {
  await ensureWebBuilt();
  ({ rapport, ws } = await startWithWorkspace());
  const deps = { pool: rapport.pool, clock: rapport.server.clock, workspaceId: ws.workspaceId, actor: { type: 'user' as const, id: ws.owner.id } };
  await addMember(deps, 'owner', { email: 'ana@team.test', name: 'Ana Lopez', role: 'agent', password });
  await addMember(deps, 'owner', { email: 'bob@team.test', name: 'Bob Stone', role: 'agent', password });
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  await rapport?.stop();
});

describe('notifications in the agent app', () => {
  it('a mention notifies the other agent live: the bell counts it, and opening it shows the conversation', async () => {
    const api = client(rapport, ws.token, ws.workspaceId);
    const c = (await api.post('/conversations', { customer: { email: 'pat@customer.test', name: 'Pat Doe' }, subject: 'Refund for order 1042', message: { body: 'I was charged twice.' } })).json();

    // Earlier news for Bob: a conversation assigned to him, then its customer's reply.
    const bobId = (await api.get('/users')).json().items.find((u: { email: string }) => u.email === 'bob@team.test').id;
    const earlier = (await api.post('/conversations', { customer: { email: 'mia@customer.test', name: 'Mia Chen' }, subject: 'Where is my parcel?', message: { body: 'It has been a week.' } })).json();
    expect((await api.patch(`/conversations/${earlier.id}`, { assigneeId: bobId })).statusCode).toBe(200);
    await withWorkspace(rapport.pool, ws.workspaceId, (tx) =>
      ingestInbound(
        tx,
        { pool: rapport.pool, clock: rapport.server.clock, workspaceId: ws.workspaceId, actor: { type: 'customer', id: earlier.customer.id } },
        { inboxId: ws.inboxId, customer: { customerId: earlier.customer.id }, thread: { conversationId: earlier.id }, body: 'Any news? The tracking page says nothing.', at: new Date() },
      ),
    );

    const [anaContext, bobContext] = [await browser.newContext({ viewport: { width: 1280, height: 800 } }), await browser.newContext({ viewport: { width: 1280, height: 800 } })];
    contexts.push(anaContext, bobContext);
    const [ana, bob] = [await watchedPage(anaContext), await watchedPage(bobContext)];
    await signInThroughTheForm(bob.page, rapport.url, 'bob@team.test', password);
    await bob.page.getByRole('button', { name: 'Notifications: 2 unread' }).waitFor({ timeout: 20_000 });

    await signInThroughTheForm(ana.page, rapport.url, 'ana@team.test', password);
    await ana.page.goto(`${rapport.url}/w/${ws.workspaceId}/v/all/c/${c.id}`);
    await ana.page.getByRole('tab', { name: 'Note' }).click();
    const note = ana.page.getByLabel('Internal note');
    await note.click();
    await note.pressSequentially('@bo');
    // Typing @ suggests members; choosing one writes their name.
    await ana.page
      .getByRole('list', { name: 'Mention a teammate' })
      .getByRole('button', { name: /Bob Stone/ })
      .click();
    await note.pressSequentially('can you check the double charge?');
    expect(await note.inputValue()).toBe('@Bob Stone can you check the double charge?');
    await ana.page.getByRole('button', { name: 'Add note' }).click();

    // Bob's bell goes up without a reload.
    const bell = bob.page.getByRole('button', { name: 'Notifications: 3 unread' });
    await bell.waitFor({ timeout: 20_000 });
    await bell.click();
    const item = bob.page.getByRole('button', { name: new RegExp(`Ana Lopez mentioned you in #${c.number}`) });
    await item.waitFor();
    expect(await item.textContent()).toContain('can you check the double charge?');
    await bob.page.getByRole('button', { name: `New reply from Mia Chen on #${earlier.number}` }).waitFor();
    await bob.page.getByRole('button', { name: new RegExp(`^#${earlier.number} was assigned to you`) }).waitFor();
    await bob.page.screenshot({ path: path.join(DOCS, 'notifications.png') });

    await item.click();
    await bob.page.waitForURL(new RegExp(`/c/${c.id}$`));
    await bob.page.getByText('@Bob Stone can you check the double charge?').waitFor();
    // Two left, both about #earlier: opening it from the list reads them. The bell's settings say email is
    // unavailable here (no mail relay).
    await bob.page.getByRole('button', { name: 'Notifications: 2 unread' }).waitFor();
    await bob.page.goto(`${rapport.url}/w/${ws.workspaceId}/v/mine/c/${earlier.id}`);
    await bob.page.getByText('Any news? The tracking page says nothing.').first().waitFor();
    await bob.page.getByRole('button', { name: 'Notifications', exact: true }).click();
    await bob.page.getByRole('dialog', { name: 'Notifications' }).getByRole('button', { name: 'Settings' }).click();
    await bob.page.getByText(/Email notifications are unavailable/).waitFor();
    expect(await bob.page.getByLabel('Someone mentions me in a note').isDisabled()).toBe(true);

    for (const w of [ana, bob]) {
      expect(w.pageErrors).toEqual([]);
      expect(w.dialogs).toEqual([]);
      expect(w.cspViolations).toEqual([]);
    }
  }, 120_000);
});
