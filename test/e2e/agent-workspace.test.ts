import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withSystem } from '../../src/db/tenancy.js';
import { addMember, createToken, createUserAccount } from '../../src/modules/workspaces/workspaces.service.js';
import { client, eventually, startTestServer, type TestServer } from '../helpers.js';
import { DOCS, ensureWebBuilt, launchBrowser, signInThroughTheForm, watchedPage, type Watched } from './browser.js';

/**
 * The agent workspace in a real Chromium against a real Rapport with the demo data: what an agent does
 * in a day, live updates between two agents, collision detection, and a session that ends.
 */
const ADMIN_PASSWORD = 'demo admin password 42';
let rapport: TestServer;
let browser: Browser;
let workspaceId: string;
let adminId: string;
let api: ReturnType<typeof client>;
const agent = { email: 'sam.e2e@example.test', password: 'sam agent password', name: 'Sam Agent' };
const viewer = { email: 'viewer.e2e@example.test', password: 'viewer password 1', name: 'Client Viewer' };
const contexts: BrowserContext[] = [];

async function newContext(viewport = { width: 1280, height: 800 }): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport });
  context.setDefaultTimeout(10_000);
  contexts.push(context);
  return context;
}

async function signedIn(who: { email: string; password: string }, viewport?: { width: number; height: number }): Promise<Watched> {
  const w = await watchedPage(await newContext(viewport));
  await signInThroughTheForm(w.page, rapport.url, who.email, who.password);
  return w;
}

async function conversationBySubject(subject: string) {
  const res = await api.get(`/conversations?limit=100&status=open&status=pending&status=resolved&status=snoozed`);
  const found = (res.json().items as { id: string; subject: string; number: number }[]).find((c) => c.subject === subject);
  if (!found) throw new Error(`no conversation "${subject}"`);
  return found;
}

const openConversation = (page: Page, id: string, view = 'open') => page.goto(`${rapport.url}/w/${workspaceId}/v/${view}/c/${id}`);

beforeAll(async () => {
  await ensureWebBuilt();
  rapport = await startTestServer({ seedDemo: true, config: { adminPassword: ADMIN_PASSWORD } });
  const ws = await withSystem(rapport.pool, async (tx) => {
    const { rows } = await tx.query<{ id: string; owner: string }>(
      `select w.id, m.user_id as owner from workspaces w join memberships m on m.workspace_id = w.id and m.role = 'owner' where w.slug = 'demo'`,
    );
    return rows[0];
  });
  workspaceId = ws.id;
  adminId = ws.owner;
  const deps = { pool: rapport.pool, clock: rapport.server.clock, workspaceId, actor: { type: 'user' as const, id: adminId } };
  await addMember(deps, 'owner', { ...agent, role: 'agent' });
  await addMember(deps, 'owner', { ...viewer, role: 'client_viewer' });
  const { token } = await createToken(deps, 'owner', { name: 'e2e', role: 'admin' });
  api = client(rapport, token, workspaceId);
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  await rapport?.stop();
});

describe('the agent workspace in a browser', () => {
  it('an agent signs in, sees the demo inbox, opens a conversation, replies, adds a note, assigns it to themselves and resolves it', async () => {
    const w = await signedIn({ email: 'admin@rapport.local', password: ADMIN_PASSWORD });
    const { page } = w;
    // The default view is Mine; the demo assigns two conversations to the owner.
    await page.getByRole('link', { name: /All open/ }).click();
    await page.waitForSelector('.row:has-text("Maria Lopez")');
    const rows = await page.locator('.row').count();
    expect(rows).toBeGreaterThanOrEqual(3);
    // Counts per view come from the server.
    await expect.poll(() => page.locator('[data-testid="count-open"]').textContent()).toMatch(/^\d+$/);
    await page.screenshot({ path: path.join(DOCS, 'screenshot-inbox.png') });

    const maria = await conversationBySubject('Order #5521 arrived damaged');
    await page.locator(`.row[data-conversation-id="${maria.id}"]`).click();
    await page.waitForSelector('[data-testid="thread"] .message-inbound:has-text("the mug in my order arrived broken")');
    expect(page.url()).toContain(`/c/${maria.id}`);
    // The customer sidebar shows identities and their conversations.
    await page.waitForSelector('.customer-sidebar .identity-value:has-text("maria.lopez@example.com")');

    // Reply (r focuses the reply box).
    await page.keyboard.press('r');
    await page.keyboard.type('Sorry about that, Maria! A new mug is on its way.');
    await page.getByRole('button', { name: 'Send reply' }).click();
    await page.waitForSelector('.message-outbound:has-text("A new mug is on its way")');
    expect(await page.locator('.message-outbound .message-text').textContent()).toBe('Sorry about that, Maria! A new mug is on its way.');

    // Internal note, visually distinct.
    await page.getByRole('tab', { name: 'Note' }).click();
    await page.getByLabel('Internal note').fill('Replacement ordered via the warehouse portal.');
    await page.getByRole('button', { name: 'Add note' }).click();
    const note = page.locator('.message-note:has-text("Replacement ordered")');
    await note.waitFor();
    expect(await note.locator('.badge').textContent()).toBe('Internal note');
    const noteBg = await note.evaluate((el) => getComputedStyle(el).backgroundColor);
    const replyBg = await page
      .locator('.message-outbound')
      .first()
      .evaluate((el) => getComputedStyle(el).backgroundColor);
    expect(noteBg).not.toBe(replyBg);

    // Assign to me (a), then resolve (e).
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await page.keyboard.press('a');
    await eventually(async () => (await api.get(`/conversations/${maria.id}`)).json().assigneeId === adminId);
    await page.waitForSelector('.timeline-event:has-text("Alex Admin took this")');
    await page.screenshot({ path: path.join(DOCS, 'screenshot-conversation.png') });
    await page.getByRole('button', { name: 'Resolve' }).click();
    await eventually(async () => (await api.get(`/conversations/${maria.id}`)).json().status === 'resolved');

    const messages = (await api.get(`/conversations/${maria.id}/messages`)).json().items as { type: string; body: string }[];
    expect(messages.map((m) => m.type)).toEqual(['inbound', 'outbound', 'note']);
    expect(w.cspViolations).toEqual([]);
    expect(w.pageErrors).toEqual([]);
  });

  it('an agent applies a macro from the composer: its text fills the reply with the customer’s name, and sending it applies its actions', async () => {
    const macro = await api.post('/macros', { name: 'Refund on its way', body: 'Hi {{customer.first_name}}, your refund is on its way.', actions: { addTags: ['refund'], status: 'pending' } });
    expect(macro.statusCode).toBe(201);
    const { page } = await signedIn(agent);
    const target = await conversationBySubject('Charged twice');
    expect((await api.get(`/conversations/${target.id}`)).json()).toMatchObject({ status: 'open' });
    await openConversation(page, target.id);
    await page.getByLabel('Apply a macro').selectOption({ label: 'Refund on its way' });
    await expect.poll(() => page.getByLabel('Reply to the customer').inputValue()).toBe('Hi Sofia, your refund is on its way.');
    // The preview changed nothing yet.
    expect((await api.get(`/conversations/${target.id}`)).json().tags).not.toContain('refund');
    // The agent edits the text; the edited text is what is sent, and the macro's actions land with it.
    await page.getByLabel('Reply to the customer').press('End');
    await page.keyboard.type(' Expect it within 3 days.');
    await page.getByRole('button', { name: 'Send reply' }).click();
    await page.waitForSelector('.message-outbound:has-text("Expect it within 3 days.")');
    const after = await eventually(async () => {
      const c = (await api.get(`/conversations/${target.id}`)).json();
      return c.tags.includes('refund') ? c : null;
    });
    expect(after.status).toBe('pending');
    const last = (await api.get(`/conversations/${target.id}/messages?order=desc&limit=1`)).json().items[0];
    expect(last).toMatchObject({ type: 'outbound', body: 'Hi Sofia, your refund is on its way. Expect it within 3 days.' });
    await page.waitForSelector('.timeline-event:has-text("added #refund")');
    await page.waitForSelector('.conversation-title .status-pill:text-is("pending")');
  });

  it('an admin opens the settings (loaded on demand), creates a team and an API token shown once', async () => {
    const { page } = await signedIn({ email: 'admin@rapport.local', password: ADMIN_PASSWORD });
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByRole('heading', { name: 'Users' }).waitFor();
    await page.getByText(agent.email).waitFor();
    await page.getByRole('link', { name: 'Teams' }).click();
    await page.getByLabel('Team name').fill('Escalations');
    await page.getByRole('button', { name: 'Create team' }).click();
    await page.locator('.plain-list strong:text-is("Escalations")').waitFor();
    await page.screenshot({ path: path.join(DOCS, 'settings-teams.png') });
    await page.getByRole('link', { name: 'API tokens' }).click();
    await page.getByLabel('Token name').fill('CRM sync');
    await page.getByLabel('Your password').fill('not my password');
    await page.getByRole('button', { name: 'Create token' }).click();
    // A wrong confirmation is an error on the form, not a lost session.
    await page.getByText('Confirm with your password').waitFor();
    await page.getByLabel('Your password').fill(ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Create token' }).click();
    const secret = await page.locator('code.secret').textContent();
    expect(secret!.length).toBeGreaterThan(20);
    const check = await rapport.app.inject({ method: 'GET', url: `/api/v1/workspaces/${workspaceId}/conversations?limit=1`, headers: { authorization: `Bearer ${secret}` } });
    expect(check.statusCode).toBe(200);
  });

  it('an admin renames a team and changes its members, and renames an inbox', async () => {
    const team = (await api.post('/teams', { name: 'Night shift' })).json();
    const sam = (await api.get('/users')).json().items.find((u: { email: string }) => u.email === agent.email);
    const { page } = await signedIn({ email: 'admin@rapport.local', password: ADMIN_PASSWORD });
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByRole('link', { name: 'Teams' }).click();
    await page.getByRole('button', { name: 'Edit team Night shift' }).click();
    const form = page.getByRole('form', { name: 'Edit team Night shift' });
    await form.getByLabel('New team name').fill('Night owls');
    await form.locator(`input[type=checkbox][value="${sam.id}"]`).check();
    await form.getByRole('button', { name: 'Save team' }).click();
    await page.locator('.plain-list strong:text-is("Night owls")').waitFor();
    expect((await api.get('/teams')).json().items.find((t: { id: string }) => t.id === team.id)).toMatchObject({ name: 'Night owls', memberIds: [sam.id] });

    const inbox = (await api.get('/inboxes')).json().items[0];
    await page.getByRole('link', { name: 'Inboxes' }).click();
    await page.getByRole('button', { name: `Rename inbox ${inbox.name}` }).click();
    await page.getByLabel('New inbox name').fill('Front desk');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    // The cell's name includes the text box's value while editing, so wait for the saved row's button.
    await page.getByRole('button', { name: 'Rename inbox Front desk' }).waitFor();
    expect((await api.get(`/inboxes/${inbox.id}`)).json().name).toBe('Front desk');
  });

  it('an admin invites a new agent, who accepts the link, chooses a password and signs in', async () => {
    const { page } = await signedIn({ email: 'admin@rapport.local', password: ADMIN_PASSWORD });
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByLabel('Email to invite').fill('new.agent@example.test');
    await page.getByRole('button', { name: 'Invite' }).click();
    const link = await page.locator('.notice code').textContent();
    expect(link).toMatch(/\/accept-invitation#token=/);
    // No mail relay on this server: the screen says to pass the link on privately, and how Rapport could email it.
    await page.getByText(/Pass it on to them privately/).waitFor();
    await page.getByText(/set one \(EMAIL_VERIFICATION_SMTP_URL\) and Rapport will email/).waitFor();
    await page.getByText('new.agent@example.test').first().waitFor();

    const invitee = (await watchedPage(await newContext())).page;
    await invitee.goto(link!);
    await invitee.getByLabel('Your name').fill('Noor New');
    await invitee.getByLabel('Password').fill('a brand new password');
    await invitee.getByRole('button', { name: 'Accept invitation' }).click();
    await invitee.getByRole('button', { name: 'Sign in' }).waitFor();
    await invitee.getByLabel('Email').fill('new.agent@example.test');
    await invitee.getByLabel('Password').fill('a brand new password');
    await invitee.getByRole('button', { name: 'Sign in' }).click();
    await invitee.waitForSelector('.topbar .me:has-text("Noor New")');
  }, 90_000); // two browsers and three argon2 runs: slow on a busy machine

  it('a person who already has an account signs in on the invitation page and joins with it; a security alert shows until dismissed (issue #8 H1, L1)', async () => {
    const person = { email: 'has.account.e2e@example.test', password: 'their own long password', name: 'Hana Has-Account' };
    const personId = await createUserAccount(rapport.server, person);
    const invitation = (await api.post('/invitations', { email: person.email, role: 'agent' })).json();
    await withSystem(rapport.pool, (tx) => tx.query("insert into security_alerts (user_id, kind, created_at) values ($1, 'password_guessing', now())", [personId]));

    const { page } = await watchedPage(await newContext());
    await page.goto(invitation.acceptUrl);
    await page.getByRole('button', { name: 'I already have an account' }).click();
    await page.getByLabel('Email').fill(person.email);
    await page.getByLabel('Password').fill(person.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: `Join as ${person.email}` }).click();
    await page.waitForSelector(`.topbar .me:has-text("${person.name}")`);
    // The alert about their account is shown in plain words until they dismiss it.
    const alert = page.locator('.security-alerts [role="alert"]');
    await expect.poll(() => alert.textContent()).toMatch(/Many wrong passwords were tried on your account/);
    await alert.getByRole('button', { name: 'Got it' }).click();
    await expect.poll(() => alert.count()).toBe(0);
    await page.reload();
    await page.waitForSelector(`.topbar .me:has-text("${person.name}")`);
    expect(await alert.count()).toBe(0);
  }, 90_000);

  it('search, sort by waiting longest, and the property controls: priority, tag, team and snooze', async () => {
    const { page } = await signedIn({ email: 'admin@rapport.local', password: ADMIN_PASSWORD });
    await page.goto(`${rapport.url}/w/${workspaceId}/v/open`);
    await page.waitForSelector('.row');
    await page.getByLabel('Search conversations').fill('invoice');
    await expect.poll(() => page.locator('.row .row-subject').allTextContents()).toEqual(['Invoice for October']);
    expect(page.url()).toContain('q=invoice');
    await page.getByLabel('Search conversations').fill('');
    await expect.poll(() => page.locator('.row').count()).toBeGreaterThan(1);
    await page.getByLabel('Sort').selectOption('waiting_longest');
    await expect.poll(() => page.url()).toContain('sort=waiting_longest');
    const expected = (await api.get('/conversations?status=open&sort=waiting_longest')).json().items.map((c: { id: string }) => c.id);
    await expect.poll(() => page.locator('.row').evaluateAll((els) => els.map((e) => e.getAttribute('data-conversation-id')))).toEqual(expected);

    const target = await conversationBySubject('API rate limits');
    await openConversation(page, target.id);
    await page.getByLabel('Priority').selectOption('high');
    await eventually(async () => (await api.get(`/conversations/${target.id}`)).json().priority === 'high');
    await page.getByLabel('Add tag').fill('vip');
    await page.getByLabel('Add tag').press('Enter');
    await eventually(async () => (await api.get(`/conversations/${target.id}`)).json().tags.includes('vip'));
    await page.getByLabel('Team').selectOption({ label: 'Billing' });
    await eventually(async () => (await api.get(`/conversations/${target.id}`)).json().teamId !== null);
    await page.getByRole('button', { name: 'Snooze' }).click();
    await page.getByRole('button', { name: '1 hour' }).click();
    const snoozed = await eventually(async () => {
      const c = (await api.get(`/conversations/${target.id}`)).json();
      return c.status === 'snoozed' ? c : null;
    });
    const until = new Date(snoozed.snoozedUntil).getTime() - Date.now();
    expect(until).toBeGreaterThan(50 * 60_000);
    expect(until).toBeLessThan(61 * 60_000);
    await page.getByText(/snoozed this until/).waitFor();
  });

  it('the tag views come from the server, and priority and tag views show counts', async () => {
    const target = await conversationBySubject('Invoice for October');
    const before = (await api.get(`/conversations/${target.id}`)).json();
    await api.patch(`/conversations/${target.id}`, { tags: [...before.tags, 'server-side-tag'], status: 'open' });
    const counts = (await api.get('/conversations/counts')).json();
    // A fresh browser (nothing remembered locally) lists the tag the API added.
    const { page } = await signedIn(agent);
    const link = page.getByRole('link', { name: /#server-side-tag/ });
    await link.waitFor();
    expect(await page.locator('[data-testid="count-tag:server-side-tag"]').textContent()).toBe('1');
    expect(await page.locator('[data-testid="count-priority:urgent"]').textContent()).toBe(String(counts.byPriority.urgent));
    await link.click();
    await expect.poll(() => page.locator('.row .row-subject').allTextContents()).toEqual(['Invoice for October']);
  });

  it('a user in two workspaces switches between them', async () => {
    const { createWorkspace } = await import('../../src/modules/workspaces/workspaces.service.js');
    await createWorkspace(rapport.server, { name: 'Second Client', slug: 'second-client', ownerUserId: adminId });
    const { page } = await signedIn({ email: 'admin@rapport.local', password: ADMIN_PASSWORD });
    const switcher = page.getByLabel('Workspace');
    await switcher.selectOption({ label: 'Second Client' });
    await expect.poll(() => page.url()).not.toContain(workspaceId);
    await page.getByText('Nothing here').waitFor();
    await switcher.selectOption({ label: 'Demo Company' });
    await expect.poll(() => page.url()).toContain(workspaceId);
    await page.waitForSelector('.row');
  });

  it('keyboard: j and k move through the list, ? lists the shortcuts', async () => {
    const { page } = await signedIn({ email: 'admin@rapport.local', password: ADMIN_PASSWORD });
    await page.goto(`${rapport.url}/w/${workspaceId}/v/open`);
    await page.waitForSelector('.row');
    const ids = await page.locator('.row').evaluateAll((els) => els.map((e) => e.getAttribute('data-conversation-id')));
    await page.keyboard.press('j');
    await expect.poll(() => page.url()).toMatch(new RegExp(`/c/${ids[0]}$`));
    await page.keyboard.press('j');
    await expect.poll(() => page.url()).toMatch(new RegExp(`/c/${ids[1]}$`));
    await page.keyboard.press('k');
    await expect.poll(() => page.url()).toMatch(new RegExp(`/c/${ids[0]}$`));
    await page.keyboard.press('?');
    await page.getByRole('dialog', { name: 'Keyboard shortcuts' }).waitFor();
    await page.keyboard.press('Escape');
    await page.getByRole('dialog').waitFor({ state: 'detached' });
  });

  it('a message created through the API appears live in another agent’s browser without a reload', async () => {
    const { page } = await signedIn(agent);
    const target = await conversationBySubject('Delivery to a parcel locker?');
    await openConversation(page, target.id);
    await page.waitForSelector('.message-inbound');
    await page.waitForSelector('.conn-live');
    await page.evaluate(() => ((window as unknown as { __noReload: boolean }).__noReload = true));

    const sent = await api.post(`/conversations/${target.id}/messages`, { type: 'note', body: 'Live note from the API 7731' });
    expect(sent.statusCode).toBe(201);
    await page.waitForSelector('.message-note:has-text("Live note from the API 7731")', { timeout: 5000 });

    // A new conversation lands in the open list too.
    const created = await api.post('/conversations', { customer: { email: 'new.live@example.test', name: 'Nia Live' }, subject: 'Brand new live conversation', message: { body: 'Hello!' } });
    expect(created.statusCode).toBe(201);
    await page.waitForSelector('.row:has-text("Brand new live conversation")', { timeout: 5000 });
    expect(await page.evaluate(() => (window as unknown as { __noReload?: boolean }).__noReload)).toBe(true);
  });

  it('two agents in the same conversation see each other viewing and typing', async () => {
    const admin = (await signedIn({ email: 'admin@rapport.local', password: ADMIN_PASSWORD })).page;
    const sam = (await signedIn(agent)).page;
    const target = await conversationBySubject('Wrong size delivered');
    await openConversation(admin, target.id);
    await openConversation(sam, target.id);
    await admin.waitForSelector('[data-testid="presence"]:has-text("Sam Agent is viewing")', { timeout: 5000 });
    await sam.waitForSelector('[data-testid="presence"]:has-text("Alex Admin is viewing")', { timeout: 5000 });

    await sam.getByLabel('Reply to the customer').click();
    await sam.keyboard.type('Hi Lukas');
    await admin.waitForSelector('[data-testid="presence"]:has-text("Sam Agent is typing")', { timeout: 5000 });

    // Sam leaves: the admin no longer sees him.
    await sam.goto(`${rapport.url}/w/${workspaceId}/v/open`);
    await admin.waitForSelector('[data-testid="presence"]', { state: 'detached', timeout: 5000 });
  });

  it('a client viewer sees conversations read-only', async () => {
    const { page } = await signedIn(viewer);
    await page.waitForSelector('.row');
    expect(page.url()).toContain('/v/open');
    await page.locator('.row').first().click();
    await page.waitForSelector('.read-only-note');
    expect(await page.locator('.composer').count()).toBe(0);
    expect(await page.getByLabel('Status').isDisabled()).toBe(true);
    expect(await page.getByRole('link', { name: 'Settings' }).count()).toBe(0);
  });

  it('works on a narrow (390 px) screen: list first, then the conversation with a way back', async () => {
    const { page } = await signedIn({ email: 'admin@rapport.local', password: ADMIN_PASSWORD }, { width: 390, height: 844 });
    await page.goto(`${rapport.url}/w/${workspaceId}/v/open`);
    await page.waitForSelector('.row');
    expect(await page.locator('.views-nav').isVisible()).toBe(false);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await page.locator('.row').first().click();
    await page.waitForSelector('[data-testid="thread"] .message');
    expect(await page.locator('.list-pane').isVisible()).toBe(false);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await page.getByRole('button', { name: 'Back to the list' }).click();
    await page.waitForSelector('.list-pane .row');
  });

  it('when the session ends, the agent is sent back to sign in with a clear message', async () => {
    const { page } = await signedIn(agent);
    await page.waitForSelector('.row, .state-empty');
    await withSystem(rapport.pool, (tx) => tx.query(`delete from sessions where user_id = (select id from users where email = $1)`, [agent.email]));
    rapport.server.resolver.forget('s:');
    await page.getByRole('link', { name: /Unassigned/ }).click();
    await page.getByText('Your session has expired. Please sign in again.').waitFor({ timeout: 10_000 });
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
  });
});
