import { createHash, randomBytes } from 'node:crypto';
import { promises as nodeDns } from 'node:dns';
import type { Pool, PoolClient, Queryable } from '../../../db/pool.js';
import { inSystemTx, withSystem, withWorkspace } from '../../../db/tenancy.js';
import type { Clock } from '../../../lib/clock.js';
import { createSystemMailer, type SystemMailer } from '../../../lib/system-mail.js';
import type { WorkspaceContext } from '../../context.js';
import { inboxErrors, inboxForChannel } from '../../inboxes/inboxes.service.js';
import { workspaceSummary } from '../../workspaces/workspaces.accounts.service.js';
import { canonicalAddress, headerText, isPublicMailDomain, splitPlusAddress } from './email.addresses.js';
import type { EmailInboxSettings } from './email.channel.js';
import { emailErrors } from './email.errors.js';
import { ownershipRepository as repo, type ClaimRow } from './email.ownership.repository.js';

/**
 * Who may receive an address's mail (SECURITY H2). Anyone who can create a workspace can type
 * `billing@a.test` or a catch-all of someone else's domain into an inbox, so what an inbox lists is
 * only a claim: it routes mail once the workspace proves control, by
 *  - a confirmation link mailed to the address through the operator's relay (never through the
 *    inbox's own SMTP settings: a claimant who names their own SMTP server would receive the link), or
 *  - a DNS TXT record `rapport-verification=<token>` at the domain or at `_rapport.<domain>`, which
 *    proves the catch-all and every address the workspace lists at that domain.
 * Pending claims block nobody and no answer depends on other workspaces' claims (T3); the newest
 * proof of a value takes it over, since proving control now is what ownership means for mail.
 * One exception: a link is never mailed to an address that already routes to another workspace
 * here (its mail, the link included, would land in that workspace's shared inbox, where any agent
 * could click it), so such a value is taken over only by the DNS proof.
 */

/** DNS as a dependency: `(name, 'TXT')` answers as `dns.promises.resolve` does (TXT: arrays of chunks). */
export type TxtResolver = (name: string, rrtype: 'TXT') => Promise<unknown[]>;

/** The system resolver, bounded: a silent name server cannot hold an admin's request for long. */
export function systemTxtResolver(timeoutMs = 5_000): TxtResolver {
  const resolver = new nodeDns.Resolver({ timeout: Math.max(100, Math.floor(timeoutMs / 2)), tries: 2 });
  return (name, rrtype) => resolver.resolve(name, rrtype) as Promise<unknown[]>;
}

/** Sends the confirmation emails through the operator's relay (EMAIL_VERIFICATION_SMTP_URL): the shared system mailer. */
export type ConfirmationMailer = SystemMailer;
export const createConfirmationMailer = createSystemMailer;

/** The settings a confirmation needs. */
export interface ConfirmationOptions {
  mailer: ConfirmationMailer | null;
  /** Where the confirm page lives (PUBLIC_URL or the address reached). */
  publicUrl: string;
  ttlMs: number;
  /**
   * At most this many confirmation emails per address per 24 hours, across all workspaces (past
   * that, a request is answered as sent and nothing is mailed); one workspace is told 429 when it
   * alone asked this many times.
   */
  perAddressPerDay: number;
  /** Where a confirmation that is answered as sent but not mailed is noted (the request's logger). */
  log?: { info: (details: Record<string, unknown>, message: string) => void };
}

const DAY = 24 * 60 * 60 * 1000;
/** One workspace asks again for the same address at most once a minute. */
const RESEND_AFTER_MS = 60_000;

const domainOf = (address: string) => address.slice(address.lastIndexOf('@') + 1);
const newToken = (bytes: number) => randomBytes(bytes).toString('base64url');
const sha256 = (text: string) => createHash('sha256').update(text).digest();

/** Serializes proofs of values in the same domains across workspaces; sorted, so no lock-order deadlock. */
async function lockDomains(tx: Queryable, domains: string[]): Promise<void> {
  for (const d of [...new Set(domains)].sort()) await repo.advisoryLock(tx, `email-domain:${d}`);
}

/**
 * Keeps email_inbox_addresses in step with a saved inbox, inside the transaction that saves it.
 * New values come in pending; values kept keep their proof. Only a duplicate inside the same
 * workspace is refused (409): whether another workspace lists the value changes nothing in the answer.
 */
export async function claimInboxAddresses(tx: Queryable, inbox: { workspaceId: string; inboxId: string; settings: EmailInboxSettings; at: Date }): Promise<void> {
  const { workspaceId: ws, inboxId, settings } = inbox;
  const addresses = [...new Set(settings.addresses)];
  const domains = [...new Set(settings.catchAllDomains)];
  try {
    await repo.replaceClaims(tx, ws, inboxId, addresses, domains);
  } catch (error) {
    if ((error as { code?: string }).code === '23505') throw emailErrors.addressTaken();
    throw error;
  }
  const all = [...new Set([...addresses.map(domainOf), ...domains])];
  await repo.ensureDomainTokens(
    tx,
    ws,
    all,
    all.map(() => newToken(18)),
    inbox.at,
  );
}

function claimView(c: ClaimRow) {
  return {
    kind: c.kind,
    value: c.value,
    domain: c.domain,
    status: c.status,
    verifiedAt: c.verified_at?.toISOString() ?? null,
    verifiedBy: c.verified_by,
    confirmationSentAt: c.confirm_sent_at?.toISOString() ?? null,
    confirmationExpiresAt: c.confirm_expires_at?.toISOString() ?? null,
  };
}

/**
 * An email inbox of the workspace with the names a confirmation email and the confirm page show,
 * from their owners (inboxes, workspaces) in the caller's transaction; undefined for another channel's
 * inbox or none.
 */
async function emailInboxNames(pool: Pool, tx: PoolClient, ws: string, inboxId: string): Promise<{ inbox_name: string; workspace_name: string } | undefined> {
  const inbox = await inboxForChannel(tx, ws, inboxId);
  if (inbox?.channel !== 'email') return undefined;
  const workspace = await workspaceSummary({ pool, tx }, ws);
  return workspace && { inbox_name: inbox.name, workspace_name: workspace.name };
}

async function ownershipIn(tx: Queryable, ws: string, inboxId: string, confirmationEmail: boolean) {
  if ((await inboxForChannel(tx, ws, inboxId))?.channel !== 'email') throw inboxErrors.notFound();
  const claims = await repo.claims(tx, ws, inboxId);
  const domains = [...new Set(claims.map((c) => c.domain))];
  const tokens = await repo.domainTokens(tx, ws, domains);
  return {
    confirmationEmail,
    items: claims.map(claimView),
    dnsRecords: tokens.map((t) => ({
      domain: t.domain,
      name: `_rapport.${t.domain}`,
      value: `rapport-verification=${t.token}`,
      pending: claims.some((c) => c.domain === t.domain && c.status === 'pending'),
    })),
  };
}

/** What the admin screen shows: each address and catch-all with its status, and the DNS records that prove them. */
export async function inboxOwnership(deps: WorkspaceContext & { confirmationEmail: boolean }, inboxId: string) {
  return withWorkspace(deps.pool, deps.workspaceId, (tx) => ownershipIn(tx, deps.workspaceId, inboxId, deps.confirmationEmail));
}

/**
 * The workspace, other than `ws`, that mail to `address` reaches on this instance today (the same
 * order as inbound routing; a public mail domain is never a catch-all), or undefined.
 */
async function routedElsewhere(tx: Queryable, ws: string, address: string): Promise<string | undefined> {
  const domain = domainOf(address);
  const owner = await repo.routedWorkspace(tx, address, splitPlusAddress(address).base, isPublicMailDomain(domain) ? null : domain);
  return owner && owner !== ws ? owner : undefined;
}

/**
 * Mails a single-use link (256 random bits, SHA-256 stored, expiring) to a pending address; a new
 * link replaces the previous one. One workspace may ask once a minute and `perAddressPerDay` times
 * a day per address (429 past that). Two cases are answered exactly as a send, and nothing is
 * mailed, so the answer says nothing about other workspaces (T3):
 *  - the address already received `perAddressPerDay` emails today from all workspaces together
 *    (nobody can use Rapport to flood a stranger's mailbox, nor lock its owner out with 429s);
 *  - the address already routes to another workspace here (the link would land in its inbox).
 */
export async function sendAddressConfirmation(deps: WorkspaceContext & { confirm: ConfirmationOptions }, inboxId: string, input: { address: string }) {
  const ws = deps.workspaceId;
  const address = canonicalAddress(input.address);
  const names = await withWorkspace(deps.pool, ws, async (tx) => {
    const inbox = await emailInboxNames(deps.pool, tx, ws, inboxId);
    if (!inbox) throw inboxErrors.notFound();
    const claim = address ? await repo.claim(tx, ws, inboxId, 'address', address) : undefined;
    if (!claim) throw emailErrors.claimNotFound();
    if (claim.status === 'verified') throw emailErrors.alreadyVerified();
    return inbox;
  });
  const { mailer, publicUrl, ttlMs, perAddressPerDay } = deps.confirm;
  if (!mailer) throw emailErrors.confirmationUnavailable('Set EMAIL_VERIFICATION_SMTP_URL on the server to send confirmation emails, or publish the DNS record of the domain.');
  const to = address!;
  const now = deps.clock.now();
  const token = newToken(32);
  const expiresAt = new Date(now.getTime() + ttlMs);
  const withheld = await withSystem(deps.pool, async (tx) => {
    await repo.advisoryLock(tx, `email-confirm:${to}`);
    const sends = await repo.sendsSince(tx, ws, to, new Date(now.getTime() - DAY), new Date(now.getTime() - RESEND_AFTER_MS));
    if (sends.recent > 0) throw emailErrors.confirmationThrottled('Wait a minute before sending another confirmation email.', { headers: { 'retry-after': String(RESEND_AFTER_MS / 1000) } });
    if (sends.mine >= perAddressPerDay) throw emailErrors.confirmationThrottled(undefined, { headers: { 'retry-after': '3600' } });
    const withheld = (await routedElsewhere(tx, ws, to)) ? ('address_routes_to_another_workspace' as const) : sends.total >= perAddressPerDay ? ('daily_cap_across_workspaces' as const) : null;
    await repo.recordSend(tx, ws, to, now, new Date(now.getTime() - DAY));
    await repo.setConfirmToken(tx, ws, inboxId, to, sha256(token), now, expiresAt);
    return withheld;
  });
  const answer = { address: to, sentAt: now.toISOString(), expiresAt: expiresAt.toISOString() };
  if (withheld) {
    deps.confirm.log?.info({ workspaceId: ws, inboxId, address: to, reason: withheld }, 'address confirmation not mailed');
    return answer;
  }
  const link = `${publicUrl}/confirm-email#token=${token}`;
  const hours = Math.round(ttlMs / 3_600_000);
  try {
    await mailer.send({
      to,
      subject: headerText(`Confirm that ${to} may receive mail in a Rapport help desk`),
      text: [
        `The Rapport workspace "${headerText(names.workspace_name, 100)}" asked to receive the email sent to ${to} in its inbox "${headerText(names.inbox_name, 100)}".`,
        '',
        'If you manage this address and agree, open this link and confirm:',
        link,
        '',
        `The link works once, for ${hours} hour${hours === 1 ? '' : 's'}.`,
        'If you did not expect this email, ignore it: nothing changes, and no mail to this address goes to that workspace.',
      ].join('\n'),
    });
  } catch {
    throw emailErrors.confirmationNotSent('The mail relay did not accept the confirmation email; try again later.');
  }
  return answer;
}

async function findConfirmation(pool: Pool, tx: PoolClient, clock: Clock, token: string, lock = false) {
  if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return null;
  const row = await repo.byConfirmToken(tx, sha256(token), lock);
  if (!row || row.confirm_expires_at.getTime() <= clock.now().getTime()) return null;
  const names = await emailInboxNames(pool, tx, row.workspace_id, row.inbox_id);
  return names ? { ...row, ...names } : null;
}

/** Public: what a confirmation link is about, so the person reading the mailbox knows who asks before agreeing. */
export async function previewAddressConfirmation(deps: { pool: Pool; clock: Clock }, token: string) {
  const row = await withSystem(deps.pool, (tx) => findConfirmation(deps.pool, tx, deps.clock, token));
  if (!row) throw emailErrors.confirmationNotFound();
  return { address: row.address, workspaceName: row.workspace_name, inboxName: row.inbox_name, expiresAt: row.confirm_expires_at.toISOString() };
}

/**
 * Public: the holder of the link confirms; the address routes to that inbox from now on. The link
 * then stops working. A link never takes an address that routes to another workspace by now (it
 * became theirs after the link was mailed): that takes the DNS proof.
 */
export async function confirmAddress(deps: { pool: Pool; clock: Clock }, token: string) {
  return withSystem(deps.pool, async (tx) => {
    const found = await findConfirmation(deps.pool, tx, deps.clock, token);
    if (!found) throw emailErrors.confirmationNotFound();
    // Domain lock first, then the row, in the same order as every other proof.
    await lockDomains(tx, [found.domain]);
    const row = await findConfirmation(deps.pool, tx, deps.clock, token, true);
    if (!row || (await routedElsewhere(tx, row.workspace_id, row.address))) throw emailErrors.confirmationNotFound();
    await repo.markVerified(tx, row.workspace_id, [{ kind: 'address', value: row.address }], 'link', deps.clock.now());
    return { address: row.address, workspaceName: row.workspace_name, inboxName: row.inbox_name };
  });
}

/** TXT answers flattened: each record's chunks joined (RFC 7208 §3.3 style), trimmed. */
function txtValues(answer: unknown[]): string[] {
  return answer.map((r) => (Array.isArray(r) ? r.join('') : String(r)).trim());
}

/**
 * Checks the workspace's TXT record on a domain through the injected resolver; when it is there,
 * every pending claim of the workspace in that domain (addresses and the catch-all) is verified.
 */
export async function verifyDomain(deps: WorkspaceContext & { dns: TxtResolver; confirmationEmail: boolean }, inboxId: string, input: { domain: string }) {
  const ws = deps.workspaceId;
  const address = canonicalAddress(`x@${input.domain}`);
  const domain = address ? address.slice(2) : null;
  const token = await withWorkspace(deps.pool, ws, async (tx) => {
    const view = await ownershipIn(tx, ws, inboxId, deps.confirmationEmail);
    const record = domain ? view.dnsRecords.find((r) => r.domain === domain) : undefined;
    if (!record) throw emailErrors.claimNotFound();
    return record.value;
  });
  const d = domain!;
  let found = false;
  for (const name of [`_rapport.${d}`, d]) {
    try {
      if (txtValues(await deps.dns(name, 'TXT')).includes(token)) found = true;
    } catch {
      // ENOTFOUND, ENODATA, SERVFAIL, a timeout: all mean "not proven (yet)".
    }
    if (found) break;
  }
  if (!found) throw emailErrors.dnsRecordNotFound(`Add a TXT record at _rapport.${d} (or at ${d}) with the value ${token}, then check again; DNS changes can take a while to show.`);
  await withSystem(deps.pool, async (tx) => {
    await lockDomains(tx, [d]);
    const items = await repo.pendingInDomain(tx, ws, d);
    if (items.length) await repo.markVerified(tx, ws, items, 'dns', deps.clock.now());
  });
  return inboxOwnership(deps, inboxId);
}

/**
 * Service level only, never an API: marks every address and catch-all of an inbox verified by the
 * operator (the demo seed, and tests that set up inboxes). Takes the values over like any proof.
 */
export async function markInboxOwnershipVerified(deps: { pool: Pool; clock: Clock; tx?: PoolClient }, workspaceId: string, inboxId: string, only?: string[]) {
  await inSystemTx(deps, async (tx) => {
    const claims = (await repo.claims(tx, workspaceId, inboxId)).filter((c) => c.status === 'pending' && (!only || only.includes(c.value)));
    await lockDomains(
      tx,
      claims.map((c) => c.domain),
    );
    if (claims.length)
      await repo.markVerified(
        tx,
        workspaceId,
        claims.map((c) => ({ kind: c.kind, value: c.value })),
        'operator',
        deps.clock.now(),
      );
  });
}
