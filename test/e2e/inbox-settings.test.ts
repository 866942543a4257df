import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmailModule } from '../../src/modules/channels/email/email.module.js';
import { createEmailInbox, startSink, systemQuery } from '../../src/modules/channels/email/email.testing.js';
import { modules } from '../../src/modules/index.js';
import { createTestWorkspace, eventually, startTestServer, type TestServer, type TestWorkspace } from '../helpers.js';
import { DOCS, ensureWebBuilt, launchBrowser, signInThroughTheForm, watchedPage } from './browser.js';

/**
 * An inbox's settings page (issue #10) as an admin uses it: the team moves to a new mail relay. The
 * SMTP port is changed, "Send a test" first says in plain words that the wrong port cannot be
 * reached, then sends through the new relay, which wants the stored password (the page never had it:
 * the mask stands for it); saving keeps it.
 */
const PASSWORD = 'relay-pass-kept-secret';
let rapport: TestServer;
let ws: TestWorkspace;
let browser: Browser;
let relay: Awaited<ReturnType<typeof startSink>>;
let inboxId: string;
let deadPort: number;

beforeAll(async () => {
  await ensureWebBuilt();
  relay = await startSink({ auth: { user: 'desk@shop.test', password: PASSWORD } });
  // A port nothing listens on: the old relay is gone.
  const gone = new SMTPServer({ logger: false });
  await new Promise<void>((r) => gone.listen(0, '127.0.0.1', r));
  deadPort = (gone.server.address() as AddressInfo).port;
  await new Promise<void>((r) => gone.close(() => r()));
  rapport = await startTestServer({ modules: modules.map((m) => (m.name === 'email' ? createEmailModule({ smtpTimeoutMs: 3000 }) : m)) });
  ws = await createTestWorkspace(rapport);
  inboxId = (
    await createEmailInbox(rapport, ws, {
      addresses: ['support@shop.test'],
      fromName: 'Shop Support',
      smtp: { host: '127.0.0.1', port: deadPort, tls: 'none', user: 'desk@shop.test', password: PASSWORD },
      autoAck: { enabled: true, body: 'Hello {{name}}, we got your message about “{{subject}}” and answer within a day.' },
    })
  ).id;
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await rapport?.stop();
  await relay?.close();
});

describe('the inbox settings page', () => {
  it("an inbox's SMTP is changed, tested and saved without losing its masked password", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    context.setDefaultTimeout(15_000);
    const { page, pageErrors } = await watchedPage(context);
    await signInThroughTheForm(page, rapport.url, ws.owner.email, ws.owner.password);
    await page.goto(`${rapport.url}/w/${ws.workspaceId}/admin/inboxes`);
    await page
      .getByRole('row', { name: /Support/ })
      .getByRole('link', { name: 'Settings' })
      .click();
    await page.getByRole('heading', { name: 'Sending (SMTP)' }).waitFor();

    // The password is never in the page: the field is empty and says one is saved.
    const password = page.getByLabel('SMTP password');
    expect(await password.inputValue()).toBe('');
    expect(await password.getAttribute('placeholder')).toMatch(/saved/);
    expect(await page.content()).not.toContain(PASSWORD);

    // The old relay is gone: the test says so in plain words.
    await page.getByLabel('Send a test to').fill('lead@shop.test');
    await page.getByRole('button', { name: 'Send a test' }).click();
    await expect.poll(async () => page.getByRole('alert').first().textContent()).toMatch(/could not reach 127\.0\.0\.1 on port \d+/);

    // The new relay's port; the password stays the saved one.
    await page.getByLabel('SMTP port').fill(String(relay.port));
    await page.getByRole('button', { name: 'Send a test' }).click();
    await page.getByText('Test email sent to lead@shop.test').waitFor();
    const mail = await eventually(async () => relay.received.find((m) => m.to.includes('lead@shop.test')));
    expect(mail.raw).toContain('Subject: Rapport test email');

    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByText('Saved.').waitFor();
    const [row] = await systemQuery<{ settings: { smtp: { port: number; password: string } } }>(rapport, 'select settings from inboxes where id = $1', [inboxId]);
    expect(row.settings.smtp).toMatchObject({ port: relay.port, password: PASSWORD });

    // The page as an admin sees it: every section, the acknowledgement preview, where to point mail.
    await page.getByText('Hello Ann Example, we got your message about “My order is late”').waitFor();
    await page.getByRole('cell', { name: 'shop.test' }).first().waitFor();
    // The settings scroll inside the page: a tall window shows them all in one picture.
    await page.setViewportSize({ width: 1280, height: 2100 });
    await page.getByRole('heading', { name: /^Support/ }).scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(DOCS, 'inbox-settings.png') });
    await page.setViewportSize({ width: 1280, height: 800 });

    // Disabling says what happens first, and shows on the page.
    await page.getByRole('button', { name: 'Disable inbox' }).click();
    await page.getByText(/This inbox is disabled since/).waitFor();
    await page.getByRole('button', { name: 'Enable inbox' }).click();
    await page.getByRole('button', { name: 'Disable inbox' }).waitFor();
    expect(pageErrors).toEqual([]);
    await context.close();
  }, 120_000);
});
