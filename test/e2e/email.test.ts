import path from 'node:path';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmailInbox, sendMail, smtpPortOf, startSink } from '../../src/modules/channels/email/email.testing.js';
import { client, createTestWorkspace, eventually, startTestServer, type TestServer, type TestWorkspace } from '../helpers.js';
import { DOCS, ensureWebBuilt, launchBrowser, signInThroughTheForm, watchedPage, type Watched } from './browser.js';
import { createEmailModule } from '../../src/modules/channels/email/email.module.js';
import { modules } from '../../src/modules/index.js';
import { localMailDns } from '../../src/lib/dns.testing.js';

/**
 * The email channel seen from the agent app: a real email delivered to Rapport's SMTP port opens in
 * Chromium with its headers, attachments and original; a reply with Cc written in the composer
 * leaves through the inbox's SMTP server (a local sink here).
 */
let rapport: TestServer;
let ws: TestWorkspace;
let browser: Browser;
let sink: Awaited<ReturnType<typeof startSink>>;
let api: ReturnType<typeof client>;
const contexts: BrowserContext[] = [];
const zone = new Map<string, string[][]>();

beforeAll(async () => {
  await ensureWebBuilt();
  sink = await startSink();
  rapport = await startTestServer({
    // DNS the test publishes records in (the inbox screen's "Check DNS"), and the sink as the relay of confirmation emails.
    dns: async (name, rrtype) => {
      if (rrtype === 'TXT' && zone.has(name)) return zone.get(name)!;
      return localMailDns(name, rrtype);
    },
    modules: modules.map((m) => (m.name === 'email' ? createEmailModule({ verificationSmtpUrl: `smtp://127.0.0.1:${sink.port}` }) : m)),
  });
  ws = await createTestWorkspace(rapport);
  api = client(rapport, ws.token, ws.workspaceId);
  await createEmailInbox(rapport, ws, { addresses: ['support@shop.test'], fromName: 'Shop Support', smtp: { host: '127.0.0.1', port: sink.port, tls: 'none' } });
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  await rapport?.stop();
  await sink?.close();
});

async function signedIn(): Promise<Watched> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  context.setDefaultTimeout(10_000);
  contexts.push(context);
  const w = await watchedPage(context);
  await signInThroughTheForm(w.page, rapport.url, ws.owner.email, ws.owner.password);
  return w;
}

/** Delivers through Rapport's SMTP port and waits for the conversation it opens. */
async function deliver(mail: Parameters<typeof sendMail>[1] & { subject: string }): Promise<string> {
  const info = await sendMail(smtpPortOf(rapport), mail);
  expect(info.response).toMatch(/^250/);
  return eventually(async () => {
    const items = (await api.get('/conversations?limit=100')).json().items as { id: string; subject: string }[];
    return items.find((c) => c.subject === mail.subject)?.id;
  });
}

describe('email in the agent app', () => {
  it('shows a delivered email with From, To and Cc as text, its attachment and original as downloads, and its quoted text folded', async () => {
    const id = await deliver({
      from: '"Ann Example" <ann@customer.test>',
      to: 'support@shop.test',
      cc: '"Bob Builder" <bob@customer.test>, carl@customer.test',
      subject: 'Where is my parcel?',
      text: 'Hello, the parcel has not arrived.\n\nOn Mon, 1 Jan 2026, Shop wrote:\n> Your parcel shipped on Friday',
      attachments: [{ filename: 'receipt.pdf', content: Buffer.from('%PDF-1.4 receipt'), contentType: 'application/pdf' }],
    });
    const { page, pageErrors, dialogs } = await signedIn();
    await page.goto(`${rapport.url}/w/${ws.workspaceId}/v/open/c/${id}`);
    const message = page.locator('[data-testid="thread"] .message-inbound');
    await message.waitFor();

    const headers = message.locator('.email-headers');
    const field = async (name: string) => headers.locator(`div:has(dt:text-is("${name}")) dd`).textContent();
    expect(await field('From')).toBe('Ann Example <ann@customer.test>');
    expect(await field('To')).toBe('support@shop.test');
    expect(await field('Cc')).toBe('Bob Builder <bob@customer.test>, carl@customer.test');
    expect(await message.locator('.message-text').first().textContent()).toBe('Hello, the parcel has not arrived.');

    // The attachment is a link to the download route, which answers "attachment" (never rendered).
    const link = message.getByRole('link', { name: 'receipt.pdf' });
    const href = await link.getAttribute('href');
    expect(href).toMatch(new RegExp(`^/api/v1/workspaces/${ws.workspaceId}/email/attachments/[0-9a-f-]{36}$`));
    const download = await page.request.get(`${rapport.url}${href}`);
    expect(download.status()).toBe(200);
    expect(download.headers()['content-disposition']).toMatch(/^attachment; filename="receipt\.pdf"/);
    expect((await download.body()).toString()).toBe('%PDF-1.4 receipt');

    const raw = message.getByRole('link', { name: 'Download original (.eml)' });
    const rawHref = await raw.getAttribute('href');
    expect(rawHref).toMatch(new RegExp(`^/api/v1/workspaces/${ws.workspaceId}/email/messages/[0-9a-f-]{36}/raw$`));
    const rawRes = await page.request.get(`${rapport.url}${rawHref}`);
    expect(rawRes.status()).toBe(200);
    expect((await rawRes.body()).toString()).toContain('Subject: Where is my parcel?');

    // Quoted history is folded away until asked for.
    const quoted = message.locator('.email-quoted .message-text');
    expect(await quoted.isVisible()).toBe(false);
    await message.getByText('Show quoted text').click();
    await quoted.waitFor({ state: 'visible' });
    expect(await quoted.textContent()).toContain('Your parcel shipped on Friday');
    expect(pageErrors).toEqual([]);
    expect(dialogs).toEqual([]);
  });

  it('an agent replies by email with a Cc and two attachments from the composer; the mail leaves with both', async () => {
    const id = await deliver({ from: 'Dora <dora@customer.test>', to: 'support@shop.test', subject: 'Invoice copy for accounting', text: 'Please send the invoice.' });
    const { page, pageErrors } = await signedIn();
    await page.goto(`${rapport.url}/w/${ws.workspaceId}/v/open/c/${id}`);
    await page.waitForSelector('[data-testid="thread"] .message-inbound');

    // A bad address is a form error from the server's problem+json, and nothing is sent.
    // The composer opens when the reply is written (it stays one line until used), showing Cc.
    await page.getByLabel('Reply to the customer').fill('Here is the invoice, with a copy to accounting.');
    await page.getByLabel('Cc', { exact: true }).fill('"v@x.com x"@evil.com');
    await page.getByRole('button', { name: 'Send reply' }).click();
    await page.locator('.composer .inline-error').waitFor();
    expect(await page.locator('.composer .inline-error').textContent()).toMatch(/not a plain email address/);

    await page.getByLabel('Cc', { exact: true }).fill('Accounting@Partner.test, eve@partner.test');
    await page.getByLabel('Attach files').setInputFiles([
      { name: 'invoice-0042.txt', mimeType: 'text/plain', buffer: Buffer.from('Invoice 0042: 19.99 EUR') },
      { name: 'stamp.png', mimeType: 'image/png', buffer: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]) },
    ]);
    expect(await page.getByLabel('Files to attach').locator('li').allTextContents()).toEqual(['invoice-0042.txt (23 B)', 'stamp.png (8 B)']);
    await page.getByRole('button', { name: 'Send reply' }).click();
    await page.waitForSelector('.message-outbound:has-text("with a copy to accounting")');
    expect(await page.getByLabel('Cc', { exact: true }).inputValue()).toBe('');
    const mail = await eventually(async () => sink.received.find((r) => r.raw.includes('with a copy to accounting')), 15_000);
    expect(mail.to.sort()).toEqual(['accounting@partner.test', 'dora@customer.test', 'eve@partner.test']);
    expect(mail.raw).toMatch(/^Cc: accounting@partner\.test, eve@partner\.test/m);
    // Both files were uploaded and went out as attachments of that reply.
    expect(mail.raw).toMatch(/Content-Disposition: attachment; filename="?invoice-0042\.txt"?/);
    expect(mail.raw).toMatch(/Content-Disposition: attachment; filename="?stamp\.png"?/);
    expect(mail.raw).toContain(Buffer.from('Invoice 0042: 19.99 EUR').toString('base64'));
    expect(await page.getByLabel('Files to attach').count()).toBe(0);
    // The sent reply shows its Cc in the thread.
    const out = page.locator('.message-outbound');
    await expect.poll(() => out.locator('.email-headers div:has(dt:text-is("Cc")) dd').textContent()).toBe('accounting@partner.test, eve@partner.test');
    expect(pageErrors).toEqual([]);
  });
  it('an admin sets up an email inbox from Settings, proves its addresses by DNS and by the emailed link, then mail arrives; a taken or bad address is a form error', { timeout: 90_000 }, async () => {
    const { page } = await signedIn();
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByRole('link', { name: 'Inboxes' }).click();
    const create = async (name: string, addresses: string) => {
      await page.getByLabel('Inbox name').fill(name);
      await page.getByLabel('Channel').selectOption('email');
      await page.getByLabel('Addresses', { exact: true }).fill(addresses);
      await page.getByLabel('SMTP host').fill('127.0.0.1');
      await page.getByLabel('SMTP port').fill(String(sink.port));
      await page.getByLabel('SMTP TLS').selectOption('none');
      await page.getByRole('button', { name: 'Create' }).click();
    };
    // Another inbox already receives for support@shop.test: a generic refusal, shown on the form.
    await create('Duplicate', 'support@shop.test');
    await page.getByText(/already used by another inbox/).waitFor();
    await create('Broken', 'not an address');
    await page.getByText(/not a plain email address/).waitFor();
    await create('Front desk', 'frontdesk@shop.test, desk@reception.test');
    await page.getByRole('cell', { name: /Front desk/ }).waitFor();
    const inbox = (await api.get('/inboxes')).json().items.find((i: { name: string }) => i.name === 'Front desk');
    expect(inbox).toMatchObject({ channel: 'email', settings: { addresses: ['frontdesk@shop.test', 'desk@reception.test'], smtp: { host: '127.0.0.1', port: sink.port, tls: 'none' } } });
    // New addresses are pending until proven (SECURITY H2): the screen says so and how to prove them.
    const panel = page.getByRole('region', { name: 'Email addresses of Front desk' });
    await panel.getByRole('row', { name: /frontdesk@shop\.test.*Pending/ }).waitFor();
    await expect(sendMail(smtpPortOf(rapport), { from: 'walkin@customer.test', to: 'frontdesk@shop.test', subject: 'too early', text: 'x' })).rejects.toThrow(/550/);
    // Proof by DNS: publish the TXT record the screen shows, then "Check DNS".
    const record = await panel.locator('li', { hasText: 'shop.test' }).locator('code').allTextContents();
    expect(record[0]).toBe('_rapport.shop.test');
    await panel.getByRole('button', { name: 'Check DNS record of shop.test' }).click();
    await panel
      .getByRole('alert')
      .getByText(/Add a TXT record at _rapport\.shop\.test/)
      .waitFor();
    zone.set('_rapport.shop.test', [[record[1]]]);
    await panel.getByRole('button', { name: 'Check DNS record of shop.test' }).click();
    await panel.getByRole('row', { name: /frontdesk@shop\.test.*Verified/ }).waitFor();
    await panel.screenshot({ path: path.join(DOCS, 'screenshot-address-ownership.png') });
    const id = await deliver({ from: 'Walk In <walkin@customer.test>', to: 'frontdesk@shop.test', subject: 'Set up in the browser', text: 'Does this reach you?' });
    expect((await api.get(`/conversations/${id}`)).json().inboxId).toBe(inbox.id);

    // Proof by link: the email carries it; whoever reads the mailbox opens it, signed in or not, and confirms.
    const before = sink.received.length;
    await panel.getByRole('button', { name: 'Send confirmation email to desk@reception.test' }).click();
    await panel.getByRole('row', { name: /desk@reception\.test.*confirmation sent/ }).waitFor();
    const mail = await eventually(async () => sink.received.slice(before).find((m) => m.to.includes('desk@reception.test')));
    const link = /(http:\/\/\S+\/confirm-email#token=[A-Za-z0-9_-]+)/.exec(mail.raw.replace(/=\r?\n/g, '').replace(/=3D/g, '='))![1];
    const stranger = await browser.newContext();
    contexts.push(stranger);
    const reader = await stranger.newPage();
    await reader.goto(link);
    await reader.getByText(/asks to receive all email sent to desk@reception\.test/).waitFor();
    await reader.getByRole('button', { name: 'Confirm desk@reception.test' }).click();
    await reader.getByText(/Confirmed\. Email sent to desk@reception\.test now goes to the inbox “Front desk”/).waitFor();
    await page.reload();
    await page
      .getByRole('region', { name: 'Email addresses of Front desk' })
      .getByRole('row', { name: /desk@reception\.test.*Verified/ })
      .waitFor();
    // The same link, opened again, is spent.
    await reader.reload();
    await reader.getByText(/This link is not valid/).waitFor();
  });
});
