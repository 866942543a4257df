import { randomUUID } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withSystem } from '../../src/db/tenancy.js';
import { client, createTestWorkspace, startTestServer, type TestServer, type TestWorkspace } from '../helpers.js';
import { ensureWebBuilt, launchBrowser, signInThroughTheForm, watchedPage } from './browser.js';

/**
 * SECURITY.md C1, E3-E5 in the agent UI: strings a customer controls (subject, name, message text and
 * HTML) are shown as text or inside a sandboxed iframe, never run. A payload that ran would open a
 * dialog or set a window flag; both are watched.
 */
let rapport: TestServer;
let ws: TestWorkspace;
let browser: Browser;

const SUBJECT = '<img src=x onerror="window.__xss=\'subject\'"><script>window.__xss="subject-script"</script>';
const NAME = '"<img src=x onerror=alert(1)>" <svg onload=alert(2)>';
const TEXT = '<img src=x onerror=alert(document.domain)> [x](javascript:alert(1)) <script>window.__xss="text"</script>';
const HTML = [
  '<p id="inside">Hello from the email</p>',
  '<script>parent.__xss = "html-script"; alert("html")</script>',
  '<img src=x onerror="parent.__xss=\'html-img\'; alert(3)">',
  '<svg onload="alert(4)"></svg>',
  '<a href="javascript:alert(5)">click</a>',
  '<iframe srcdoc="<script>parent.parent.__xss=1</script>"></iframe>',
  '<form action="https://evil.example/"><input name=q></form>',
  '<meta http-equiv="refresh" content="0;url=https://evil.example/">',
  '<div style="background:url(https://tracker.example/pixel.png)">styled</div>',
  '<img src="https://tracker.example/open.gif">',
].join('\n');

beforeAll(async () => {
  await ensureWebBuilt();
  rapport = await startTestServer();
  ws = await createTestWorkspace(rapport);
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await rapport?.stop();
});

describe('hostile content in the agent UI', () => {
  it('a script payload in a subject, a customer name and a message body (text and HTML) stays inert', async () => {
    const api = client(rapport, ws.token, ws.workspaceId);
    const created = await api.post('/conversations', { customer: { email: 'attacker@example.test', name: NAME }, subject: SUBJECT, message: { body: TEXT, html: HTML } });
    expect(created.statusCode).toBe(201);
    const id = created.json().id as string;
    await api.post(`/conversations/${id}/messages`, { type: 'note', body: '<b onmouseover=alert(6)>note</b>' });
    // An email as the email channel stores it (EmailMessageMetadata: addresses are {name, address}),
    // with hostile display names, subject, attachment name, forwarder and quoted text (E4, E5).
    const email = {
      messageId: 'hostile@x.example',
      from: { name: '<img src=x onerror=alert(7)>', address: 'a@x.example' },
      to: [{ name: '', address: '"<script>alert(8)</script>"@gmail.com' }],
      cc: [{ name: '<svg onload=alert(10)>', address: 'c@x.example' }],
      subject: '<script>alert(1)</script>',
      date: null,
      attachments: [{ id: randomUUID(), name: '<svg onload=alert(9)>.pdf', size: 2048, contentType: 'application/pdf', inline: false }],
      parse: 'parsed',
      quoted: '> <img src=x onerror=alert(11)>',
      unverified: true,
      authentication: { verdict: 'failed', by: 'rapport', reason: 'SPF failed for x.example: sent from 203.0.113.9 which the domain does not list <b onmouseover=alert(13)>' },
      forwardedBy: { name: '<b onmouseover=alert(12)>Fwd</b>', address: 'f@x.example' },
      delivery: { status: 'failed', error: '<b>550</b> mailbox unavailable', at: new Date().toISOString() },
      rawAvailable: true,
    };
    await withSystem(rapport.pool, (tx) =>
      tx.query(
        `insert into messages (workspace_id, conversation_id, type, author_type, body_text, metadata, created_at)
         values ($1, $2, 'inbound', 'customer', 'email body', $3, now() + interval '1 minute')`,
        [ws.workspaceId, id, JSON.stringify({ email })],
      ),
    );

    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    context.setDefaultTimeout(10_000);
    const w = await watchedPage(context);
    const { page } = w;
    // Remote requests from the email would be a tracking leak: count any that leave the machine.
    const remote: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith(rapport.url) && !r.url().startsWith('data:') && !r.url().startsWith('about:')) remote.push(r.url());
    });
    await signInThroughTheForm(page, rapport.url, ws.owner.email, ws.owner.password);
    await page.goto(`${rapport.url}/w/${ws.workspaceId}/v/open`);

    // The list shows the subject and the name as text.
    const row = page.locator(`.row[data-conversation-id="${id}"]`);
    await row.waitFor();
    expect(await row.locator('.row-subject').textContent()).toBe(SUBJECT);
    expect(await row.locator('.row-customer').textContent()).toBe(NAME);

    await row.click();
    await page.waitForSelector('[data-testid="thread"] .message-inbound');
    expect(await page.locator('.conversation-title h1').textContent()).toContain(SUBJECT);
    expect(await page.title()).toContain(SUBJECT.slice(0, 20));
    expect(await page.locator('.customer-sidebar .customer-name').textContent()).toBe(NAME);
    expect(await page.locator('.message-note .message-text').textContent()).toBe('<b onmouseover=alert(6)>note</b>');

    // The email's headers, attachment and delivery status are text.
    const headers = page.locator('.email-headers');
    await headers.waitFor();
    expect(await headers.locator('dd').allTextContents()).toEqual([
      '<img src=x onerror=alert(7)> <a@x.example>',
      '"<script>alert(8)</script>"@gmail.com',
      '<svg onload=alert(10)> <c@x.example>',
      email.subject,
    ]);
    expect(await page.locator('.email-unverified').textContent()).toBe('Unverified sender');
    // Why, in the server's plain words (issue #8 M5), as text.
    expect(await page.locator('.email-auth').textContent()).toBe(`Probably forged: ${email.authentication.reason}`);
    expect(await page.locator('.email-forwarded').textContent()).toBe('Forwarded by <b onmouseover=alert(12)>Fwd</b> <f@x.example>');
    const attachment = page.locator('.attachments a.attachment-link');
    expect(await attachment.textContent()).toBe(email.attachments[0].name);
    expect(await attachment.getAttribute('href')).toBe(`/api/v1/workspaces/${ws.workspaceId}/email/attachments/${email.attachments[0].id}`);
    await page.getByText('Show quoted text').click();
    expect(await page.locator('.email-quoted .message-text').textContent()).toBe(email.quoted);
    expect(await page.locator('.delivery').textContent()).toContain('<b>550</b>');

    // The HTML body renders inside an iframe with an empty sandbox, from srcdoc.
    const frame = page.locator('.html-frame iframe');
    await frame.waitFor();
    expect(await frame.getAttribute('sandbox')).toBe('');
    expect(await frame.getAttribute('src')).toBeNull();
    const inner = page.frameLocator('.html-frame iframe');
    await inner.locator('#inside, p').first().waitFor();
    expect(await inner.locator('body').textContent()).toContain('Hello from the email');
    // Remote images are blocked until the agent asks for them.
    await page.getByText('Remote images are blocked').waitFor();

    // The plain-text view of the same message shows the raw text.
    await page.getByRole('button', { name: 'Plain text' }).click();
    expect(await page.locator('.message-inbound .message-text').first().textContent()).toBe(TEXT);

    await page.mouse.move(400, 400);
    await page.waitForTimeout(300);
    const flags = await page.evaluate(() => (window as unknown as { __xss?: unknown }).__xss);
    expect(flags).toBeUndefined();
    // The pixel's URL is not even in the frame until the agent asks (so nothing had to be refused).
    expect(w.cspViolations).toEqual([]);
    expect(w.dialogs).toEqual([]);
    expect(remote).toEqual([]);
    // No element the payloads describe made it into the app's own DOM.
    expect(await page.locator('#root img[src="x"], #root svg[onload], #root script').count()).toBe(0);

    // "Show images" is the agent's choice, and only then does the email reach out.
    await page.getByRole('button', { name: 'Formatted' }).click();
    await expect.poll(() => inner.locator('img[data-blocked-src^="https://tracker.example/"]').count()).toBe(1);
    expect(remote).toEqual([]);
    await page.getByRole('button', { name: 'Show images' }).click();
    await expect.poll(() => remote.some((u) => u.startsWith('https://tracker.example/open.gif'))).toBe(true);
    expect(w.dialogs).toEqual([]);
    await context.close();
  });
});
