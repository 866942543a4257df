import path from 'node:path';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addMember } from '../../src/modules/workspaces/workspaces.service.js';
import { client, eventually, startWithWorkspace, type TestServer, type TestWorkspace } from '../helpers.js';
import { DOCS, ensureWebBuilt, launchBrowser, signInThroughTheForm, watchedPage } from './browser.js';

/** Issue #10, "Views that never hide work": a status filter in Mine, a saved view, bulk assign and close. */
let rapport: TestServer;
let ws: TestWorkspace;
let browser: Browser;
let context: BrowserContext | undefined;
const password = 'another long password';

beforeAll(async () => {
  await ensureWebBuilt();
  ({ rapport, ws } = await startWithWorkspace());
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await context?.close().catch(() => undefined);
  await browser?.close();
  await rapport?.stop();
});

describe('views in the agent app', () => {
  it('filters Mine by Pending, saves it as a shared view, then bulk-assigns two unassigned conversations and closes them', async () => {
    const api = client(rapport, ws.token, ws.workspaceId);
    const deps = { pool: rapport.pool, clock: rapport.server.clock, workspaceId: ws.workspaceId, actor: { type: 'user' as const, id: ws.owner.id } };
    const ana = await addMember(deps, 'owner', { email: 'ana@team.test', name: 'Ana Lopez', role: 'agent', password });
    const open = async (name: string, subject: string, patch?: Record<string, unknown>) => {
      const c = (await api.post('/conversations', { customer: { email: `${name.toLowerCase().replace(/\W/g, '.')}@customer.test`, name }, subject, message: { body: subject } })).json();
      if (patch) expect((await api.patch(`/conversations/${c.id}`, patch)).statusCode).toBe(200);
      return c as { id: string; number: number };
    };
    await open('Pat Doe', 'Waiting for the invoice copy', { assigneeId: ana.id, status: 'pending' });
    await open('Lee Park', 'Asked for a photo of the damage', { assigneeId: ana.id, status: 'pending' });
    await open('Sam Roy', 'Cannot sign in', { assigneeId: ana.id });
    const u1 = await open('Kim Lau', 'Parcel never arrived');
    const u2 = await open('Jo Bell', 'Double charge on my card');
    const u3 = await open('Ari Moss', 'Change of address');

    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const w = await watchedPage(context);
    const page = w.page;
    await signInThroughTheForm(page, rapport.url, 'ana@team.test', password);
    await page.goto(`${rapport.url}/w/${ws.workspaceId}/v/mine`);
    const list = page.getByTestId('conversation-list');
    const subject = (text: string) => list.locator('.row-subject', { hasText: text });
    await subject('Cannot sign in').waitFor({ timeout: 20_000 });
    await page.getByTestId('count-mine').getByText('1', { exact: true }).waitFor();

    // Mine x Pending: the two pending conversations, and Mine's count says 2 like the list.
    await page.getByLabel('Status', { exact: true }).selectOption('pending');
    await subject('Waiting for the invoice copy').waitFor();
    await subject('Asked for a photo of the damage').waitFor();
    await page.getByTestId('count-mine').getByText('2', { exact: true }).waitFor();
    expect(await subject('Cannot sign in').count()).toBe(0);
    expect(page.url()).toContain('status=pending');

    // Save it as a view shared with the workspace: it opens, and the nav lists it.
    await page.getByRole('button', { name: 'Save view' }).click();
    await page.getByLabel('View name').fill('My pending');
    await page.getByLabel('Share with the workspace').check();
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.waitForURL(/\/v\/saved%3A|\/v\/saved:/);
    const nav = page.getByRole('navigation', { name: 'Views' });
    await nav.getByRole('link', { name: /My pending/ }).waitFor();
    await page.getByRole('heading', { name: /My pending/ }).waitFor();
    await subject('Asked for a photo of the damage').waitFor();
    await page.getByRole('button', { name: 'Stop sharing' }).waitFor();
    await page.screenshot({ path: path.join(DOCS, 'saved-views.png') });
    const saved = (await api.get('/saved-views')).json().items;
    expect(saved).toEqual([expect.objectContaining({ name: 'My pending', shared: true, filters: { assignee: 'me', status: ['pending'] } })]);

    // Unassigned: check one row, shift-click the next (a range of two), assign them to me.
    await nav.getByRole('link', { name: /Unassigned/ }).click();
    await subject('Change of address').waitFor();
    await page.getByLabel(`Select #${u3.number}`).click();
    await page.getByLabel(`Select #${u2.number}`).click({ modifiers: ['Shift'] });
    const bar = page.getByRole('toolbar', { name: 'Bulk actions' });
    await bar.getByText('2 selected').waitFor();
    expect(await page.getByLabel(`Select #${u1.number}`).isChecked()).toBe(false);
    await page.screenshot({ path: path.join(DOCS, 'bulk-actions.png') });
    await bar.getByLabel('Assign selected').selectOption({ label: 'Me' });
    await page.getByTestId('bulk-result').getByText('Done: 2 conversations updated.').waitFor();
    // The list updates: only the third stays unassigned.
    await eventually(async () => (await subject('Change of address').count()) === 0 && (await subject('Double charge on my card').count()) === 0);
    await subject('Parcel never arrived').waitFor();

    // Mine (open) now holds them: select both and close, after confirming.
    await nav.getByRole('link', { name: /^Mine/ }).click();
    await subject('Double charge on my card').waitFor();
    await page.getByLabel(`Select #${u3.number}`).click();
    await page.getByLabel(`Select #${u2.number}`).click();
    await bar.getByText('2 selected').waitFor();
    await bar.getByRole('button', { name: 'Close…' }).click();
    await bar.getByText('Close 2 conversations?').waitFor();
    await bar.getByRole('button', { name: 'Close them' }).click();
    await page.getByTestId('bulk-result').getByText('Done: 2 conversations updated.').waitFor();
    await eventually(async () => (await subject('Double charge on my card').count()) === 0 && (await subject('Change of address').count()) === 0);
    await subject('Cannot sign in').waitFor();
    for (const c of [u2, u3]) expect((await api.get(`/conversations/${c.id}`)).json()).toMatchObject({ status: 'closed', assigneeId: ana.id });
    expect((await api.get(`/conversations/${u1.id}`)).json()).toMatchObject({ status: 'open', assigneeId: null });

    // Opened from its address, the saved view lists with its own filters.
    await page.goto(`${rapport.url}/w/${ws.workspaceId}/v/saved:${saved[0].id}`);
    await subject('Waiting for the invoice copy').waitFor({ timeout: 20_000 });
    await page.getByRole('heading', { name: /My pending/ }).waitFor();
    expect(await subject('Cannot sign in').count()).toBe(0);

    expect(w.pageErrors).toEqual([]);
    expect(w.dialogs).toEqual([]);
    expect(w.cspViolations).toEqual([]);
  }, 150_000);
});
