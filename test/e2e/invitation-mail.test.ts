import path from 'node:path';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startWithMailRelay, type TestServer, type TestWorkspace } from '../helpers.js';
import { DOCS, ensureWebBuilt, launchBrowser, watchedPage } from './browser.js';

/** Issue #8 H1 in Chromium: with a mail relay, the admin's screen says the invitation was emailed and shows no link; the mailed link works. */
let rapport: TestServer;
let ws: TestWorkspace;
let browser: Browser;
let sink: Awaited<ReturnType<typeof startWithMailRelay>>['sink'];
let stop: () => Promise<void>;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  await ensureWebBuilt();
  ({ rapport, ws, sink, stop } = await startWithMailRelay());
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  await stop?.();
});

const newPage = async () => {
  const context = await browser.newContext();
  contexts.push(context);
  return (await watchedPage(context)).page;
};

describe('inviting with a mail relay', () => {
  it('says "Invitation emailed to" without showing a link; the invitee accepts from the mail', async () => {
    const page = await newPage();
    await page.goto(`${rapport.url}/`);
    await page.getByLabel('Email').fill(ws.owner.email);
    await page.getByLabel('Password').fill(ws.owner.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByLabel('Email to invite').fill('mailed.agent@example.test');
    await page.getByRole('button', { name: 'Invite' }).click();
    await page.getByText('Invitation emailed to mailed.agent@example.test').waitFor();
    expect(await page.locator('.notice code').count()).toBe(0);
    expect(await page.content()).not.toContain('accept-invitation#token=');

    const mail = await eventually(async () => sink.received.find((m) => m.to.includes('mailed.agent@example.test')));
    const link = /(http:\/\/\S+\/accept-invitation#token=rpi_[A-Za-z0-9_-]+)/.exec(mail.raw.replace(/=\r?\n/g, '').replace(/=3D/g, '='))![1];
    const invitee = await newPage();
    await invitee.goto(link);
    // The accept page names who invited which email to which workspace, as what (issue #10).
    const summary = invitee.getByTestId('invitation-summary');
    await summary.waitFor();
    const slug = ws.owner.email.replace(/^owner-/, '').replace(/@.*$/, '');
    expect(await summary.textContent()).toBe(`Owner ${slug} invited mailed.agent@example.test to join Workspace ${slug} as an agent.`);
    await invitee.screenshot({ path: path.join(DOCS, 'invitation-accept.png') });
    await invitee.getByLabel('Your name').fill('Mia Mailed');
    await invitee.getByLabel('Password').fill('a brand new mailed password');
    await invitee.getByRole('button', { name: 'Accept invitation' }).click();
    await invitee.getByRole('button', { name: 'Sign in' }).waitFor();
  }, 90_000);
});
