import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const WEB = path.join(ROOT, 'web');
const DIST_INDEX = path.join(WEB, 'dist', 'index.html');

function newestMtime(target: string): number {
  const s = statSync(target);
  if (!s.isDirectory()) return s.mtimeMs;
  let newest = 0;
  for (const entry of readdirSync(target)) newest = Math.max(newest, newestMtime(path.join(target, entry)));
  return newest;
}

/**
 * Builds web/dist once when it is missing or older than its sources. Test files run in parallel
 * workers, so the build takes a lock (an atomic mkdir) and the others wait for it.
 */
export async function ensureWebBuilt(): Promise<void> {
  const lock = path.join(WEB, '.build-lock');
  const stale = () => {
    if (!existsSync(DIST_INDEX)) return true;
    const sources = Math.max(newestMtime(path.join(WEB, 'src')), newestMtime(path.join(WEB, 'index.html')), newestMtime(path.join(WEB, 'vite.config.ts')));
    return statSync(DIST_INDEX).mtimeMs < sources;
  };
  const until = Date.now() + 60_000;
  while (stale()) {
    try {
      mkdirSync(lock);
    } catch {
      // Someone else builds (or a dead run left the lock: give up waiting after a minute and build).
      if (Date.now() > until) rmSync(lock, { recursive: true, force: true });
      await new Promise((r) => setTimeout(r, 250));
      continue;
    }
    try {
      if (stale()) execFileSync(path.join(ROOT, 'node_modules/.bin/vite'), ['build', '--config', 'web/vite.config.ts', '--logLevel', 'warn'], { cwd: ROOT, stdio: 'inherit' });
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
}

/** Debian's chromium, driven by playwright-core (never a downloaded browser). */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

export interface Watched {
  page: Page;
  /** Dialogs opened (alert/confirm/prompt): an XSS would show up here. */
  dialogs: string[];
  /** Console errors that mention the Content-Security-Policy. */
  cspViolations: string[];
  pageErrors: string[];
}

/** A page that records dialogs, CSP violations and uncaught errors. */
export async function watchedPage(context: BrowserContext): Promise<Watched> {
  const page = await context.newPage();
  const w: Watched = { page, dialogs: [], cspViolations: [], pageErrors: [] };
  page.on('dialog', (d) => {
    w.dialogs.push(`${d.type()}: ${d.message()}`);
    void d.dismiss();
  });
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content.Security.Policy/i.test(m.text())) w.cspViolations.push(m.text());
  });
  page.on('pageerror', (e) => w.pageErrors.push(e.message));
  return w;
}

export async function signInThroughTheForm(page: Page, baseUrl: string, email: string, password: string): Promise<void> {
  await page.goto(`${baseUrl}/`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForSelector('[data-testid="conversation-list"], .state-empty');
}

export const DOCS = path.join(ROOT, 'docs');
