import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { Pool, Queryable } from '../../db/pool.js';
import { withWorkspace } from '../../db/tenancy.js';
import { AppError } from '../../lib/errors.js';
import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';
import type { WorkspaceContext } from '../context.js';
import { ingestInbound } from '../conversations/conversations.channels.js';
import { inboxForWebhook } from '../inboxes/inboxes.service.js';
import { applyReceipt } from './channels.outbound.js';
import type { ChannelRegistry, InboundMessage, WebhookEvent, WebhookRequest, WebhookVerified } from './channels.registry.js';
import { webhookErrors } from './channels.errors.js';
import { channelsRepository as repo } from './channels.repository.js';

/**
 * Signature check for adapters: HMAC-SHA256 of the raw body under the inbox's secret, compared in
 * constant time (a byte-by-byte compare would tell an attacker how much of a guess was right).
 * `signature` is hex, optionally prefixed ("sha256=..."), as most providers send it.
 */
export function verifyHmacSha256(raw: Buffer, secret: string, signature: string | string[] | undefined, prefix = ''): boolean {
  if (typeof signature !== 'string' || !secret || !signature.startsWith(prefix)) return false;
  const hex = signature.slice(prefix.length);
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) return false;
  const expected = createHmac('sha256', secret).update(raw).digest();
  return timingSafeEqual(expected, Buffer.from(hex, 'hex'));
}

export interface WebhookDeps {
  pool: Pool;
  clock: Clock;
  log: Logger;
  channels: ChannelRegistry;
}

/** The one ingest path for a message that came through a webhook; a redelivered one is stored once. */
export async function ingestChannelMessage(deps: WorkspaceContext, inbox: { id: string; channel: string }, m: InboundMessage): Promise<{ conversationId: string; messageId: string } | null> {
  return withWorkspace(deps.pool, deps.workspaceId, (tx) => ingestChannelMessageIn(tx, deps, inbox, m));
}

async function ingestChannelMessageIn(tx: Queryable, deps: WorkspaceContext, inbox: { id: string; channel: string }, m: InboundMessage): Promise<{ conversationId: string; messageId: string } | null> {
  if (await repo.inboundSeen(tx, deps.workspaceId, inbox.id, m.providerId)) return null;
  const at = deps.clock.now();
  // PostgreSQL text cannot hold NUL (SECURITY L4); a provider's text might.
  const clean = (t: string | undefined) => t?.replace(/\u0000/g, '');
  const result = await ingestInbound(tx, deps, {
    inboxId: inbox.id,
    customer: { identities: [m.identity], name: clean(m.name) },
    thread: 'latest_open',
    subject: clean(m.subject ?? undefined) ?? null,
    body: clean(m.body) ?? '',
    html: clean(m.html),
    kind: m.kind,
    metadata: { [inbox.channel]: { ...m.metadata, providerId: m.providerId } },
    at,
  });
  // Two copies at once: the second's claim fails on the unique key and its transaction rolls back.
  if (!(await repo.claimInbound(tx, { workspaceId: deps.workspaceId, inboxId: inbox.id, conversationId: result.conversationId, messageId: result.messageId, providerId: m.providerId, at }))) {
    throw new Error('inbound message stored concurrently');
  }
  return { conversationId: result.conversationId, messageId: result.messageId };
}

/** How far a signed timestamp may be from the server's clock, either way (providers' clocks drift a little). */
export const WEBHOOK_TOLERANCE_MS = 5 * 60_000;

/**
 * A provider's call: the inbox it names, the channel's signature check over the raw bytes (a bad
 * one is a 401 that changes nothing), the signed timestamp's window when the channel signs one (a
 * stale one is a 401 that changes nothing), then, in one transaction with the claim of the delivery's
 * key, each event it carries: a message through the one ingest path, a receipt onto the reply's
 * delivery state. A delivery whose key was claimed before (a replay) is answered 200, applied once.
 */
export async function handleWebhook(d: WebhookDeps, kind: string, inboxId: string, request: WebhookRequest): Promise<{ received: number; duplicate?: true }> {
  const inbox = await inboxForWebhook(d.pool, inboxId);
  const adapter = d.channels.find(kind);
  if (!inbox || inbox.channel !== kind || !adapter?.webhook) throw webhookErrors.notFound();
  const verdict = adapter.webhook.verify(request, inbox.settings);
  if (verdict === false) throw webhookErrors.badSignature();
  const now = d.clock.now();
  const signed = verdict === true ? null : verdict;
  if (signed && (!signed.signedAt || Number.isNaN(signed.signedAt.getTime()) || Math.abs(now.getTime() - signed.signedAt.getTime()) > WEBHOOK_TOLERANCE_MS)) {
    throw webhookErrors.stale();
  }
  let events: WebhookEvent[];
  try {
    events = adapter.webhook.parse(request, inbox.settings);
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw webhookErrors.unreadable();
  }
  const key = deliveryKey(request.raw, signed);
  const deps: WorkspaceContext = { pool: d.pool, clock: d.clock, workspaceId: inbox.workspaceId, actor: { type: 'system', id: null } };
  // One transaction: a call that fails part-way leaves no claim behind, so the provider's retry applies it.
  const applied = await withWorkspace(d.pool, inbox.workspaceId, async (tx) => {
    if (!(await repo.claimWebhookDelivery(tx, { workspaceId: inbox.workspaceId, inboxId: inbox.id, key, at: now }))) return false;
    for (const event of events) {
      if (event.type === 'message') {
        await ingestChannelMessageIn(tx, deps, inbox, event.message);
      } else {
        const known = await applyReceipt(tx, deps, { channel: kind, inboxId: inbox.id, providerId: event.providerId, status: event.status, reason: event.reason });
        if (!known) d.log.info({ workspaceId: inbox.workspaceId, inboxId, channel: kind }, 'channels: receipt kept until a reply records its provider id');
      }
    }
    return true;
  });
  if (!applied) {
    d.log.info({ workspaceId: inbox.workspaceId, inboxId, channel: kind }, 'channels: webhook delivery already taken (replay)');
    return { received: events.length, duplicate: true };
  }
  return { received: events.length };
}

/**
 * The replay key: the provider's delivery id when it signs one, else a hash of what was signed (the
 * raw body, with the signed timestamp when there is one, so a later call with the same body is new).
 */
function deliveryKey(raw: Buffer, signed: WebhookVerified | null): string {
  if (signed?.deliveryId && signed.deliveryId.length <= 400) return `id:${signed.deliveryId}`;
  const hash = createHash('sha256');
  if (signed?.signedAt) hash.update(`${signed.signedAt.getTime()}.`);
  return `sha256:${hash.update(raw).digest('hex')}`;
}
