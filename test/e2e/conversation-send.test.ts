import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmailInbox, sendMail, sendRaw, smtpPortOf, startSink } from '../../src/modules/channels/email/email.testing.js';
import { addMember } from '../../src/modules/workspaces/workspaces.service.js';
import { type client, eventually, signIn, startWithWorkspace, type TestServer, type TestWorkspace } from '../helpers.js';
import { DOCS, ensureWebBuilt, launchBrowser, signInThroughTheForm, watchedPage, type Watched } from './browser.js';

/**
 * Issue #10, sending and reading in the conversation screen: "a collision warning appears when another
 * agent replied first" (Help Scout's traffic cop), and an HTML email's `cid:` images render from
 * Rapport's own attachment store under the strict CSP while remote images stay blocked.
 */
let rapport: TestServer;
let ws: TestWorkspace;
let api: ReturnType<typeof client>;
let browser: Browser;
let sink: Awaited<ReturnType<typeof startSink>>;
/** The local mail server the inbox replies through refuses these codes for an address, then accepts. */
const refusals = new Map<string, number[]>();
const contexts: BrowserContext[] = [];
const password = 'another long password';
const CORPUS = path.resolve(import.meta.dirname, '../../../shared/corpus/email');

beforeAll(async () => {
  await ensureWebBuilt();
  ({ rapport, ws, api } = await startWithWorkspace());
  const deps = { pool: rapport.pool, clock: rapport.server.clock, workspaceId: ws.workspaceId, actor: { type: 'user' as const, id: ws.owner.id } };
  await addMember(deps, 'owner', { email: 'ana@team.test', name: 'Ana Lopez', role: 'agent', password });
  await addMember(deps, 'owner', { email: 'bob@team.test', name: 'Bob Stone', role: 'agent', password });
  sink = await startSink({ refuse: (rcpt) => refusals.get(rcpt)?.shift() ?? null });
  await createEmailInbox(rapport, ws, { addresses: ['support@shop.test'], fromName: 'Shop Support', smtp: { host: '127.0.0.1', port: sink.port, tls: 'none' } });
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  await rapport?.stop();
  await sink?.close();
});

async function anaSignedIn(): Promise<Watched & { remote: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  context.setDefaultTimeout(15_000);
  contexts.push(context);
  const w = await watchedPage(context);
  const remote: string[] = [];
  w.page.on('request', (r) => {
    const url = r.url();
    if (!url.startsWith(rapport.url) && !url.startsWith('data:') && !url.startsWith('about:')) remote.push(url);
  });
  await context.route('https://images.example/**', (route) => route.fulfill({ status: 404, body: '' }));
  await signInThroughTheForm(w.page, rapport.url, 'ana@team.test', password);
  return { ...w, remote };
}

/** Bob, another agent, replies from his own session. */
async function bobReplies(conversationId: string, body: string) {
  const bob = await signIn(rapport, 'bob@team.test', password);
  const res = await rapport.app.inject({
    method: 'POST',
    url: `/api/v1/workspaces/${ws.workspaceId}/conversations/${conversationId}/messages`,
    headers: { cookie: bob.cookie, 'x-csrf-token': bob.csrfToken },
    payload: { type: 'reply', body },
  });
  expect(res.statusCode).toBe(201);
}

describe('sending and reading in a conversation', () => {
  it('a collision warning appears when another agent replied first: it shows the new reply; Review first keeps the draft, Send anyway sends', async () => {
    const c = (
      await api.post('/conversations', { customer: { email: 'pat@customer.test', name: 'Pat Doe' }, subject: 'Refund for order 1042', message: { body: 'I was charged twice for order 1042.' } })
    ).json();
    const w = await anaSignedIn();
    const { page } = w;
    await page.goto(`${rapport.url}/w/${ws.workspaceId}/v/all/c/${c.id}`);
    await page.locator('[data-testid="thread"]').getByText('I was charged twice for order 1042.').waitFor();
    const box = page.getByLabel('Reply to the customer');
    await box.fill('Sorry about that, Pat. I will refund the second charge today.');

    // Meanwhile another agent answers.
    await bobReplies(c.id, 'Hi Pat, the duplicate charge is refunded already.');
    await page.getByRole('button', { name: 'Send reply' }).click();
    const dialog = page.getByRole('alertdialog', { name: 'Another agent replied while you were writing' });
    await dialog.waitFor();
    expect(await dialog.getByRole('list', { name: 'New messages' }).textContent()).toContain('Hi Pat, the duplicate charge is refunded already.');
    await page.screenshot({ path: path.join(DOCS, 'collision.png') });

    // Review first: nothing was sent, the draft is kept, and the new reply is in the thread.
    await dialog.getByRole('button', { name: 'Review first' }).click();
    await dialog.waitFor({ state: 'detached' });
    expect(await box.inputValue()).toBe('Sorry about that, Pat. I will refund the second charge today.');
    await page.locator('[data-testid="thread"]').getByText('Hi Pat, the duplicate charge is refunded already.').waitFor();
    let thread = (await api.get(`/conversations/${c.id}/messages`)).json().items.map((m: { body: string }) => m.body);
    expect(thread).not.toContain('Sorry about that, Pat. I will refund the second charge today.');

    // Bob writes again while Ana edits; this time she sends anyway.
    await box.fill('Good news: the duplicate is refunded, it shows in 3 days.');
    await bobReplies(c.id, 'Pat, you will see it on your statement in 3 days.');
    await page.getByRole('button', { name: 'Send reply' }).click();
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain('Pat, you will see it on your statement in 3 days.');
    expect(await dialog.textContent()).toContain('Bob Stone');
    await dialog.getByRole('button', { name: 'Send anyway' }).click();
    await dialog.waitFor({ state: 'detached' });
    await page.locator('[data-testid="thread"]').getByText('Good news: the duplicate is refunded, it shows in 3 days.').waitFor();
    expect(await box.inputValue()).toBe('');
    thread = (await api.get(`/conversations/${c.id}/messages`)).json().items.map((m: { body: string }) => m.body);
    expect(thread.filter((b: string) => b.startsWith('Good news'))).toHaveLength(1);
    expect(w.pageErrors).toEqual([]);
    expect(w.cspViolations).toEqual([]);
  }, 120_000);

  it('a cid: image of a real inbound email renders from the attachment store under the CSP; a remote image stays blocked until asked', async () => {
    // A real message from the corpus: an HTML part naming two images (PNG and GIF) by Content-ID.
    const raw = readFileSync(path.join(CORPUS, 'mailparser__nodemailer.eml'));
    expect((await sendRaw(smtpPortOf(rapport), raw, { from: 'andris@kreata.ee', to: ['support@shop.test'] })).response).toMatch(/^250/);
    // And one built here with a remote image beside an inline one.
    const png = readFileSync(path.join(DOCS, 'collision.png'));
    await sendMail(smtpPortOf(rapport), {
      from: '"Lee Remote" <lee@customer.test>',
      to: 'support@shop.test',
      subject: 'Photo of the broken part',
      text: 'See the photo.',
      html: '<p>Here is the part: <img src="cid:part-photo@customer.test" alt="part"></p><p><img src="https://images.example/pixel.png" alt="pixel"></p>',
      attachments: [{ filename: 'part.png', content: png, contentType: 'image/png', cid: 'part-photo@customer.test' }],
    });
    const idOf = (subject: RegExp) => eventually(async () => ((await api.get('/conversations?limit=100')).json().items as { id: string; subject: string }[]).find((i) => subject.test(i.subject))?.id);
    const corpusId = await idOf(/^Nodemailer is unicode friendly/);
    const builtId = await idOf(/^Photo of the broken part$/);

    const w = await anaSignedIn();
    const { page } = w;
    await page.goto(`${rapport.url}/w/${ws.workspaceId}/v/all/c/${corpusId}`);
    const frame = page.frameLocator('.html-frame iframe');
    const widths = () => frame.locator('img').evaluateAll((imgs) => imgs.map((i) => (i as HTMLImageElement).naturalWidth));
    await expect.poll(widths, { timeout: 20_000 }).toEqual([expect.any(Number), expect.any(Number)]);
    await expect.poll(async () => (await widths()).every((n) => n > 0), { timeout: 20_000 }).toBe(true);
    expect(await frame.locator('img').first().getAttribute('src')).toMatch(/^data:image\/png;base64,/);
    await page.screenshot({ path: path.join(DOCS, 'inline-image.png') });

    await page.goto(`${rapport.url}/w/${ws.workspaceId}/v/all/c/${builtId}`);
    const inline = page.frameLocator('.html-frame iframe').locator('img[alt="part"]');
    await expect.poll(() => inline.evaluate((i) => (i as HTMLImageElement).naturalWidth), { timeout: 20_000 }).toBeGreaterThan(0);
    // The remote one has no URL in the frame, and nothing left the app.
    expect(await page.frameLocator('.html-frame iframe').locator('img[alt="pixel"]').getAttribute('src')).toBeNull();
    await page.getByText('Remote images are blocked').waitFor();
    expect(w.remote).toEqual([]);
    await page.getByRole('button', { name: 'Show images' }).click();
    await expect.poll(() => w.remote.some((u) => u.startsWith('https://images.example/pixel.png'))).toBe(true);
    // The inline image is still its stored bytes.
    expect(await inline.getAttribute('src')).toMatch(/^data:image\/png;base64,/);
    expect(w.pageErrors).toEqual([]);
    expect(w.cspViolations).toEqual([]);
  }, 120_000);

  it('a failed reply says what happened in plain words, and Retry now sends it through the mail server', async () => {
    refusals.set('rita@customer.test', [550]);
    await sendMail(smtpPortOf(rapport), { from: '"Rita Ray" <rita@customer.test>', to: 'support@shop.test', subject: 'Invoice copy', text: 'Could you send me the invoice again?' });
    const id = await eventually(async () => ((await api.get('/conversations?limit=100')).json().items as { id: string; subject: string }[]).find((i) => i.subject === 'Invoice copy')?.id);
    const w = await anaSignedIn();
    const { page } = w;
    await page.goto(`${rapport.url}/w/${ws.workspaceId}/v/all/c/${id}`);
    await page.locator('[data-testid="thread"]').getByText('Could you send me the invoice again?').waitFor();
    await page.getByLabel('Reply to the customer').fill('Here it is, attached to this email.');
    await page.getByRole('button', { name: 'Send reply' }).click();
    const line = page.locator('[data-testid="thread"] .delivery-failed');
    await line.waitFor({ timeout: 30_000 });
    expect(await line.textContent()).toContain('Not delivered. The mail server refused the message.');
    expect(sink.received.filter((r) => r.raw.includes('Here it is, attached to this email.'))).toHaveLength(0);
    await page.screenshot({ path: path.join(DOCS, 'delivery-retry.png') });
    await line.getByRole('button', { name: 'Retry now' }).click();
    await page.locator('[data-testid="thread"] .delivery-sent').waitFor({ timeout: 30_000 });
    expect(sink.received.filter((r) => r.raw.includes('Here it is, attached to this email.'))).toHaveLength(1);
    expect(w.pageErrors).toEqual([]);
    expect(w.cspViolations).toEqual([]);
  }, 120_000);
});
