import path from 'node:path';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWithWorkspace, type TestServer, type TestWorkspace } from '../helpers.js';
import { DOCS, ensureWebBuilt, launchBrowser, signInThroughTheForm, watchedPage } from './browser.js';

/** The profile screen in Chromium: the name/avatar menu, a new name, a new password, and signing in again elsewhere with it (past a forgot-password page that says this server cannot send email). */
let rapport: TestServer;
let ws: TestWorkspace;
let browser: Browser;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  await ensureWebBuilt();
  ({ rapport, ws } = await startWithWorkspace());
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  await rapport?.stop();
});

async function newContext() {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  contexts.push(context);
  return context;
}

describe('the profile screen', () => {
  it('changes the name and the password; other browsers are signed out, and the new password signs in', async () => {
    const elsewhere = (await newContext()).newPage();
    const other = await elsewhere;
    await signInThroughTheForm(other, rapport.url, ws.owner.email, ws.owner.password);

    const w = await watchedPage(await newContext());
    const { page } = w;
    await signInThroughTheForm(page, rapport.url, ws.owner.email, ws.owner.password);
    await page.getByRole('button', { name: /your account/ }).click();
    await page.getByRole('menuitem', { name: 'Profile' }).click();
    await page.getByRole('heading', { name: 'Your profile' }).waitFor();

    await page.getByLabel('Your name, as your colleagues see it').fill('Noor Haddad');
    await page.getByRole('button', { name: 'Save name' }).click();
    await page.getByText('Saved. Your colleagues now see you as Noor Haddad.').waitFor();
    // The top bar follows at once.
    await page.getByRole('button', { name: 'Noor Haddad: your account' }).waitFor();

    // A wrong current password is said in words, and nothing is signed out.
    await page.getByLabel('Current password').fill('not the password');
    await page.getByLabel('New password', { exact: true }).fill('copper kettle morning drizzle');
    await page.getByLabel('The new password again').fill('copper kettle morning drizzle');
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByText(/Your current password is not right/).waitFor();

    await page.getByLabel('Current password').fill(ws.owner.password);
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByText('Your password was changed. 1 other browser was signed out; this one stays signed in. Your API tokens still work.').waitFor();
    await page.screenshot({ path: path.join(DOCS, 'profile.png'), fullPage: true });

    // This browser is still signed in (the alert says what happened); the other one is signed out.
    await page.reload();
    await page.getByText(/Your password was changed from your profile/).waitFor();
    await other.reload();
    await other.getByRole('button', { name: 'Sign in' }).waitFor();

    // A fresh browser: the old password no longer works, the new one does, under the new name.
    const fresh = await (await newContext()).newPage();
    // This server has no mail relay: the forgot-password page says so before anyone types.
    await fresh.goto(`${rapport.url}/forgot-password`);
    await fresh.getByText(/This help desk cannot send email yet, so your password cannot be reset this way/).waitFor();
    expect(await fresh.getByRole('button', { name: 'Email me a link' }).isDisabled()).toBe(true);
    await fresh.goto(`${rapport.url}/`);
    await fresh.getByLabel('Email').fill(ws.owner.email);
    await fresh.getByLabel('Password').fill(ws.owner.password);
    await fresh.getByRole('button', { name: 'Sign in' }).click();
    await fresh.getByText('The email or password is wrong').waitFor();
    await fresh.getByLabel('Password').fill('copper kettle morning drizzle');
    await fresh.getByRole('button', { name: 'Sign in' }).click();
    await fresh.getByRole('button', { name: 'Noor Haddad: your account' }).waitFor();

    expect(w.pageErrors).toEqual([]);
    expect(w.cspViolations).toEqual([]);
  }, 180_000);
});
