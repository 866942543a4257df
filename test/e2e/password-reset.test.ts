import path from 'node:path';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startWithMailRelay, type TestServer, type TestWorkspace } from '../helpers.js';
import { DOCS, ensureWebBuilt, launchBrowser, watchedPage } from './browser.js';

/** Forgot password in Chromium: the sign-in page's link, the mailed link (a real SMTP sink), the reset page, signing in again. */
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

describe('forgot password', () => {
  it('mails a link from the sign-in page; the link sets a new password once, and the person signs in with it', async () => {
    const context = await browser.newContext();
    contexts.push(context);
    const w = await watchedPage(context);
    const { page } = w;
    await page.goto(`${rapport.url}/`);
    await page.getByRole('link', { name: 'Forgot password?' }).click();
    await page.getByRole('heading', { name: 'Forgot your password?' }).waitFor();
    await page.getByLabel('Email').fill(ws.owner.email);
    await page.getByRole('button', { name: 'Email me a link' }).click();
    await page.getByText(/we have sent it an email with a link to choose a new password/).waitFor();

    const mail = await eventually(async () => sink.received.find((m) => m.to.includes(ws.owner.email)));
    const link = /(http:\/\/\S+\/reset-password#token=[A-Za-z0-9_-]+)/.exec(mail.raw.replace(/=\r?\n/g, '').replace(/=3D/g, '='))![1];

    await page.goto(link);
    await page.getByLabel('New password', { exact: true }).fill('lantern orchard quietly sailing');
    await page.getByLabel('The same password again').fill('lantern orchard quietly sailing');
    await page.screenshot({ path: path.join(DOCS, 'screenshot-password-reset.png') });
    await page.getByRole('button', { name: 'Save the new password' }).click();
    await page.getByText(/has been signed out/).waitFor();
    await page.getByRole('link', { name: 'Sign in with your new password' }).click();

    await page.getByLabel('Email').fill(ws.owner.email);
    await page.getByLabel('Password').fill(ws.owner.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('The email or password is wrong').waitFor();
    await page.getByLabel('Password').fill('lantern orchard quietly sailing');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText(/Your password was changed through a reset link/).waitFor();
    await page.screenshot({ path: path.join(DOCS, 'screenshot-security-alert.png') });

    // The same link, opened again, is spent and says what to do.
    const other = await (await browser.newContext()).newPage();
    contexts.push(other.context());
    await other.goto(link);
    await other.getByLabel('New password', { exact: true }).fill('another orchard lantern sailing');
    await other.getByLabel('The same password again').fill('another orchard lantern sailing');
    await other.getByRole('button', { name: 'Save the new password' }).click();
    await other.getByText(/This link does not work/).waitFor();
    await other.getByRole('link', { name: 'Ask for a new link' }).waitFor();

    expect(w.pageErrors).toEqual([]);
    expect(w.cspViolations).toEqual([]);
  }, 120_000);
});
