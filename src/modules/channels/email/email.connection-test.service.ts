import { inWorkspaceTx } from '../../../db/tenancy.js';
import { AppError } from '../../../lib/errors.js';
import type { WorkspaceContext } from '../../context.js';
import { inboxErrors, inboxForChannel } from '../../inboxes/inboxes.service.js';
import { restoreMaskedSecrets } from '../channels.registry.js';
import { canonicalAddress, headerText } from './email.addresses.js';
import { parseEmailSettings, type EmailInboxSettings } from './email.channel.js';
import { emailErrors } from './email.errors.js';
import { transportFor } from './email.outbound.js';
import { pinnedImapClient } from './imap.poller.js';

/**
 * "Send a test" and "Test connection" of an inbox's settings (admin). Each tests the inbox's stored
 * settings, or the ones the admin is editing (`smtp` / `imap`, not saved): a masked password sent back
 * is the stored one (`restoreMaskedSecrets`), so an admin changes the port or TLS, tests and saves
 * without typing the password again (a new host or user needs it again). The host goes through the same outbound guard as replies and polls
 * (SECURITY M4/W4): a forbidden literal is refused by the settings check, a name when connecting,
 * against the pinned address. What went wrong is said in people's words (a coded error); the server's
 * own words go to the log.
 */
type TestContext = WorkspaceContext<'outbound' | 'log'> & { timeoutMs: number; limiter: ConnectionTestLimiter };

/**
 * Paces the tests per workspace: a bucket of `burst` that refills at `perHour` (SECURITY E12: each
 * "Send a test" mails an address the admin types; each "Test connection" signs in to someone's
 * server). Kept per instance, like the search limiter; times from the injected clock.
 */
export class ConnectionTestLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly opts: { perHour: number; burst: number }) {}

  take(ctx: Pick<TestContext, 'clock' | 'workspaceId'>): void {
    const now = ctx.clock.now().getTime();
    const perMs = this.opts.perHour / 3_600_000;
    const b = this.buckets.get(ctx.workspaceId) ?? { tokens: this.opts.burst, at: now };
    b.tokens = Math.min(this.opts.burst, b.tokens + Math.max(0, now - b.at) * perMs);
    b.at = now;
    this.buckets.set(ctx.workspaceId, b);
    if (b.tokens < 1) {
      const minutes = Math.max(1, Math.ceil((1 - b.tokens) / perMs / 60_000));
      throw emailErrors.testsThrottled(`Too many tests in a short time: try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`, { headers: { 'retry-after': String(minutes * 60) } });
    }
    b.tokens -= 1;
  }
}

async function candidate(ctx: TestContext, inboxId: string, patch: { smtp?: unknown; imap?: unknown }): Promise<EmailInboxSettings> {
  const inbox = await inWorkspaceTx(ctx, (tx) => inboxForChannel(tx, ctx.workspaceId, inboxId));
  // Another workspace's inbox, or one of another channel: the same 404 as a missing one.
  if (inbox?.channel !== 'email') throw inboxErrors.notFound();
  // Every attempt counts, refused ones too: a test is paced before anything is checked or connected.
  ctx.limiter.take(ctx);
  const merged = { ...inbox.settings, ...patch };
  const restored = restoreMaskedSecrets(merged, inbox.settings) as Record<string, unknown>;
  return parseEmailSettings(restored, ctx.outbound);
}

const TLS_WORDS = /certificate|self[ -]signed|ssl|tls|wrong version|handshake|CERT_|ERR_TLS|ERR_SSL/i;

function isTls(e: { code?: string; message?: string }) {
  return TLS_WORDS.test(`${e.code ?? ''} ${e.message ?? ''}`);
}

/** Sends a short test email through the inbox's SMTP server (as replies go: pinned address, same TLS and sign-in) to `to`. */
export async function sendSmtpTest(ctx: TestContext, inboxId: string, input: { to: string; smtp?: unknown }): Promise<{ ok: true; sentTo: string }> {
  const settings = await candidate(ctx, inboxId, input.smtp === undefined ? {} : { smtp: input.smtp });
  if (!settings.smtp) throw emailErrors.noSmtpSettings('Fill in the SMTP server first.');
  const to = canonicalAddress(input.to);
  if (!to) throw emailErrors.ambiguousRecipient('Enter one plain email address to send the test to.');
  const smtp = settings.smtp;
  // A refused address or a name that resolves to one throws the guard's coded 422 as it is.
  const pinned = await ctx.outbound.pin(smtp.host);
  const transport = transportFor(smtp, pinned, ctx.timeoutMs);
  try {
    await transport.sendMail({
      from: { name: headerText(settings.fromName ?? '', 100), address: settings.addresses[0] },
      to,
      subject: 'Rapport test email',
      text: `This is a test email from Rapport: the inbox's SMTP settings (${smtp.host}:${smtp.port}) work.\n`,
      headers: { 'Auto-Submitted': 'auto-generated' },
    });
  } catch (error) {
    const e = error as { code?: string; responseCode?: number; message: string };
    ctx.log.warn({ inboxId, host: smtp.host, port: smtp.port, code: e.code, responseCode: e.responseCode, err: e.message }, 'email: SMTP test failed');
    if (e.code === 'EAUTH') throw emailErrors.authFailed('Check the SMTP user name and password.');
    if (e.code === 'ETLS' || (e.responseCode === undefined && isTls(e))) throw emailErrors.tlsFailed();
    if (e.responseCode !== undefined || e.code === 'EENVELOPE') {
      throw emailErrors.testRejected(
        `The mail server refused the test email${e.responseCode ? ` (it answered ${e.responseCode})` : ''}: check that it lets this user send from ${settings.addresses[0]}.`,
      );
    }
    throw emailErrors.serverUnreachable(`Rapport could not reach ${smtp.host} on port ${smtp.port}: check the host name, the port and the security setting.`);
  } finally {
    transport.close();
  }
  return { ok: true, sentTo: to };
}

/** Connects to the inbox's IMAP server, signs in and opens its folder; answers how many messages it holds. */
export async function testImapConnection(ctx: TestContext, inboxId: string, input: { imap?: unknown }): Promise<{ ok: true; mailbox: string; messages: number }> {
  const settings = await candidate(ctx, inboxId, input.imap === undefined ? {} : { imap: input.imap });
  const imap = settings.imap;
  if (!imap) throw emailErrors.noImapSettings('Fill in the IMAP server first.');
  const client = await pinnedImapClient(ctx.outbound, imap, ctx.timeoutMs, ctx.timeoutMs * 2);
  try {
    await client.connect();
  } catch (error) {
    const e = error as { code?: string; message: string; authenticationFailed?: boolean; serverResponseCode?: string };
    ctx.log.warn({ inboxId, host: imap.host, port: imap.port, code: e.code, err: e.message }, 'email: IMAP test failed');
    if (e.authenticationFailed || e.serverResponseCode === 'AUTHENTICATIONFAILED') throw emailErrors.authFailed('Check the IMAP user name and password.');
    if (isTls(e)) throw emailErrors.tlsFailed();
    throw emailErrors.serverUnreachable(`Rapport could not reach ${imap.host} on port ${imap.port}: check the host name, the port and the security setting.`);
  }
  try {
    const opened = await client.mailboxOpen(imap.mailbox, { readOnly: true }).catch(() => null);
    if (!opened) throw emailErrors.mailboxMissing(`There is no folder named “${imap.mailbox}” on ${imap.host}.`);
    return { ok: true, mailbox: imap.mailbox, messages: opened.exists };
  } catch (error) {
    if (error instanceof AppError) throw error;
    ctx.log.warn({ inboxId, host: imap.host, err: (error as Error).message }, 'email: IMAP test failed after sign-in');
    throw emailErrors.serverUnreachable();
  } finally {
    await client.logout().catch(() => client.close());
  }
}

/**
 * Where the admin points their mail, with this instance's values filled in: an MX record of each of
 * the inbox's domains naming this server (whose SMTP listens on `smtpPort`), forwarding from an
 * existing mailbox to the inbox's address once that routes here, or IMAP polling instead.
 */
export async function receivingInstructions(ctx: WorkspaceContext, inboxId: string, instance: { mxHost: string; smtpPort: number; imapPollSeconds: number }) {
  const inbox = await inWorkspaceTx(ctx, (tx) => inboxForChannel(tx, ctx.workspaceId, inboxId));
  if (inbox?.channel !== 'email') throw inboxErrors.notFound();
  const s = inbox.settings as unknown as EmailInboxSettings;
  const domains = [...new Set([...s.addresses.map((a) => a.split('@')[1]), ...s.catchAllDomains])];
  return {
    mx: { host: instance.mxHost, smtpPort: instance.smtpPort, records: domains.map((domain) => ({ domain, type: 'MX' as const, priority: 10, value: instance.mxHost })) },
    forwardTo: s.addresses[0],
    imap: { configured: s.imap !== null, pollSeconds: instance.imapPollSeconds },
  };
}
