import type { Task } from 'graphile-worker';
import type { Pool, PoolClient, Queryable } from '../../db/pool.js';
import { inWorkspaceTx, withSystem, withWorkspace } from '../../db/tenancy.js';
import { recordEvents } from '../../events/outbox.js';
import { defineSubscriber, type Subscriber } from '../../events/subscribers.js';
import { enqueue } from '../../jobs/queue.js';
import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';
import type { OutboundGuard } from '../../lib/outbound/outbound.guard.js';
import { inTx, type WorkspaceContext } from '../context.js';
import { findConversationRowForChannel, findMessageForChannel, updateMessageChannelMetadata } from '../conversations/conversations.channels.js';
import { customerForChannel } from '../customers/customers.service.js';
import { inboxErrors, inboxForChannel } from '../inboxes/inboxes.service.js';
import { ChannelSendError, type ChannelAdapter, type ChannelRegistry, type DeliveryStatus, type OutboundMessage, type SendResult } from './channels.registry.js';
import { deliveryErrors } from './channels.errors.js';
import { channelsRepository as repo, type ChannelMessageRow } from './channels.repository.js';

/**
 * The one outbound job for every channel that sends. An outbound message (an agent's reply, a
 * bot's answer) in a conversation whose inbox's channel has `outbound.send` gets a channel_messages
 * row (queued) in the subscriber; the job `channels.send` calls the adapter outside any
 * transaction and records what happened. A refusal the adapter calls permanent, or the last of
 * `maxAttempts`, fails the delivery with its reason (the dead letter); any other error is retried
 * after a doubling backoff. Each attempt is its own job carrying its number, so a duplicate or
 * stale job (the row moved on) does nothing. The status is mirrored on the message as
 * metadata.delivery and announced with `message.updated`, so open agent views refresh.
 */
export const CHANNEL_SEND_TASK = 'channels.send';

export const defaultRetry = { maxAttempts: 8, baseDelayMs: 5_000, maxDelayMs: 3_600_000 };

/** Reasons the core itself gives (adapters give their own, e.g. 'whatsapp.window_closed'). */
export const DELIVERY_REASONS = {
  /** The adapter threw something that was not a ChannelSendError: its words go to the log only. */
  sendFailed: 'channel.send_failed',
  /** The customer holds no identity the channel can write to. */
  noRecipient: 'channel.no_recipient',
  /** The sweeper found a queued reply whose inbox's channel no longer sends. */
  unavailable: 'channel.unavailable',
  /** The sweeper found a reply queued for over a day (SWEEP_GIVE_UP_MS): given up. */
  expired: 'channel.send_expired',
  /** Its inbox was disabled while the reply waited for an attempt: not sent ("Retry now" once it is enabled again). */
  inboxDisabled: 'channel.inbox_disabled',
} as const;

export interface OutboundJobDeps {
  pool: Pool;
  clock: Clock;
  log: Logger;
  channels: ChannelRegistry;
  outbound: OutboundGuard;
}

const ORDER: Record<DeliveryStatus, number> = { queued: 0, sent: 1, delivered: 2, read: 3, failed: 4 };

function systemDeps(d: { pool: Pool; clock: Clock }, workspaceId: string): WorkspaceContext {
  return { pool: d.pool, clock: d.clock, workspaceId, actor: { type: 'system', id: null } };
}

export function retryOf(adapter: ChannelAdapter) {
  return { ...defaultRetry, ...adapter.outbound?.retry };
}

/** Backoff before attempt `next` (2, 3, ...): base, 2x base, 4x base ..., capped. */
export function backoffMs(adapter: ChannelAdapter, next: number): number {
  const r = retryOf(adapter);
  return Math.min(r.maxDelayMs, r.baseDelayMs * 2 ** Math.max(0, next - 2));
}

/** Writes a delivery state and mirrors it on the message (metadata.delivery), in the caller's transaction. */
export async function recordDelivery(
  tx: Queryable,
  deps: WorkspaceContext,
  row: ChannelMessageRow,
  p: { channel: string; status: DeliveryStatus; reason: string | null; attempts?: number; providerId?: string | null; nextAttemptAt?: Date | null },
): Promise<void> {
  const at = deps.clock.now();
  await recordEvents(tx, [
    {
      workspaceId: deps.workspaceId,
      conversationId: row.conversation_id,
      type: 'message.delivery_changed',
      actor: deps.actor,
      at,
      data: { messageId: row.message_id, channel: p.channel, status: p.status, reason: p.reason, attempts: p.attempts ?? row.attempts },
    },
  ]);
  await repo.update(tx, deps.workspaceId, row.id, { status: p.status, error: p.reason, attempts: p.attempts, providerId: p.providerId, nextAttemptAt: p.nextAttemptAt ?? null, at });
  await updateMessageChannelMetadata(tx, deps, {
    conversationId: row.conversation_id,
    messageId: row.message_id,
    key: 'delivery',
    at,
    patch: {
      status: p.status,
      reason: p.reason,
      at: at.toISOString(),
      ...(p.attempts !== undefined ? { attempts: p.attempts } : {}),
      ...(p.providerId ? { providerId: p.providerId } : {}),
    },
  });
}

type ReceiptStatus = Exclude<DeliveryStatus, 'queued'>;

/** Moves a delivery forward by a receipt, in the caller's transaction; a receipt that would move it back does nothing. */
async function applyTo(tx: Queryable, deps: WorkspaceContext, row: ChannelMessageRow, input: { channel: string; status: ReceiptStatus; reason?: string | null }): Promise<void> {
  if (!row.status) return;
  const forward = input.status === 'failed' ? row.status === 'queued' || row.status === 'sent' : row.status === 'failed' ? input.status !== 'sent' : ORDER[input.status] > ORDER[row.status];
  if (forward) await recordDelivery(tx, deps, row, { channel: input.channel, status: input.status, reason: input.status === 'failed' ? (input.reason ?? 'channel.provider_failed') : null });
}

/** How long a receipt waits for its reply's provider id (channel_early_receipts): the sweeper purges older ones. */
export const EARLY_RECEIPT_TTL_MS = 3_600_000;

/**
 * A delivery receipt from the provider (a webhook): moves the state forward only (a late "sent"
 * never undoes "read"), and never revives a failed delivery except by a receipt of delivery.
 * A provider may call back before the outbound job has recorded the id its send answered (the
 * receipt's transaction commits first): such a receipt is kept (channel_early_receipts) and applied
 * when a reply of that inbox records that id. Returns false when it was kept rather than applied.
 */
export async function applyReceipt(tx: Queryable, deps: WorkspaceContext, input: { channel: string; inboxId: string; providerId: string; status: ReceiptStatus; reason?: string }): Promise<boolean> {
  const row = await repo.lockByProviderId(tx, deps.workspaceId, input.inboxId, input.providerId);
  if (!row?.status) {
    await repo.keepEarlyReceipt(tx, { workspaceId: deps.workspaceId, inboxId: input.inboxId, providerId: input.providerId, status: input.status, reason: input.reason ?? null, at: deps.clock.now() });
    return false;
  }
  await applyTo(tx, deps, row, input);
  return true;
}

/** A reply just recorded its provider id: the receipts that came first apply now, in their order. */
async function applyEarlyReceipts(tx: Queryable, deps: WorkspaceContext, channel: string, inboxId: string, providerId: string): Promise<void> {
  for (const early of await repo.takeEarlyReceipts(tx, deps.workspaceId, inboxId, providerId)) {
    const row = await repo.lockByProviderId(tx, deps.workspaceId, inboxId, providerId);
    if (row) await applyTo(tx, deps, row, { channel, status: early.status, reason: early.reason });
  }
}

/**
 * Queues one outbound message for its channel, in the caller's transaction: a `queued`
 * channel_messages row, the channel's own `queue` step, and the first job. Idempotent (one row per
 * message): the subscriber, a redelivered event and a job left by an older version (email's
 * `email.send`) may all call it. False when the message's channel does not send.
 */
export async function queueDelivery(tx: PoolClient, d: Pick<OutboundJobDeps, 'pool' | 'clock' | 'channels'>, ws: string, conversationId: string, messageId: string): Promise<boolean> {
  const conversation = await findConversationRowForChannel(tx, ws, conversationId);
  const inbox = conversation && (await inboxForChannel(tx, ws, conversation.inbox_id));
  if (!conversation || !inbox) return false;
  const adapter = d.channels.find(inbox.channel);
  if (!adapter?.outbound) return false;
  const id = await repo.insertOutbound(tx, { workspaceId: ws, inboxId: conversation.inbox_id, conversationId: conversation.id, messageId, at: d.clock.now() });
  if (!id) return true; // queued by an earlier delivery of this event
  const row = (await repo.lock(tx, ws, id))!;
  const deps = systemDeps(d, ws);
  let providerId: string | null = null;
  if (adapter.outbound.queue) {
    const built = await build(tx, d, ws, row);
    try {
      const queued = built ? await adapter.outbound.queue(tx, built.message, { workspaceId: ws, inboxId: built.inboxId, settings: built.settings, context: inTx(deps, tx) }) : undefined;
      providerId = queued?.providerId || null;
      if (queued?.settled) {
        const { status, reason } = queued.settled;
        await recordDelivery(tx, deps, row, { channel: adapter.kind, status, reason, attempts: 0, providerId });
        if (providerId && status === 'sent') await applyEarlyReceipts(tx, deps, adapter.kind, row.inbox_id, providerId);
        return true;
      }
    } catch (error) {
      // Refused before any attempt (email: no recipient, an ambiguous address): the dead letter at once.
      if (!(error instanceof ChannelSendError) || !error.permanent) throw error;
      await recordDelivery(tx, deps, row, { channel: adapter.kind, status: 'failed', reason: error.reason, attempts: 0 });
      return true;
    }
  }
  await recordDelivery(tx, deps, row, { channel: adapter.kind, status: 'queued', reason: null, attempts: 0, providerId });
  if (providerId) await applyEarlyReceipts(tx, deps, adapter.kind, row.inbox_id, providerId);
  await enqueueAttempt(tx, ws, id, 1);
  return true;
}

/**
 * "Retry now" on a reply whose delivery failed: the same delivery goes back to `queued` with its
 * attempts counted from zero and its first attempt's job, through the one outbound job (the adapter
 * sends what it built for the reply before: the email's recipients and Message-ID stay). Refused with
 * a code when the delivery is not failed (`channels.delivery_not_failed`: sending or sent already),
 * when the message has no delivery in this conversation (404, as for another workspace's), when
 * its inbox's channel no longer sends, when it failed for a reason no retry changes
 * (`channels.delivery_not_retryable`, the adapter's `notRetryable`), and when its inbox is disabled
 * (`inboxes.disabled`).
 */
export async function retryDelivery(deps: WorkspaceContext<'channels'>, conversationId: string, messageId: string): Promise<{ messageId: string; status: 'queued' }> {
  const ws = deps.workspaceId;
  return inWorkspaceTx(deps, async (tx) => {
    const row = await repo.lockByMessage(tx, ws, messageId);
    if (!row || row.conversation_id !== conversationId) throw deliveryErrors.notFound();
    if (row.status !== 'failed') throw deliveryErrors.notFailed(row.status === 'queued' ? 'The reply is being sent already.' : 'The reply was sent already.');
    const inbox = await inboxForChannel(tx, ws, row.inbox_id);
    const adapter = inbox && deps.channels.find(inbox.channel);
    if (!adapter?.outbound) throw deliveryErrors.unavailable();
    if (row.error && adapter.outbound.notRetryable?.includes(row.error)) throw deliveryErrors.notRetryable();
    // A disabled inbox sends no reply, a retried one included.
    if (inbox?.disabledAt) throw inboxErrors.disabled();
    await recordDelivery(tx, deps, row, { channel: adapter.kind, status: 'queued', reason: null, attempts: 0 });
    await enqueueAttempt(tx, ws, row.id, 1);
    return { messageId, status: 'queued' as const };
  });
}

function enqueueAttempt(tx: Queryable, ws: string, deliveryId: string, attempt: number, runAt?: Date) {
  return enqueue(tx, CHANNEL_SEND_TASK, { workspaceId: ws, deliveryId, attempt }, { jobKey: `channels.send:${deliveryId}:${attempt}`, runAt, maxAttempts: 3 });
}

/** message.created (outbound) → a queued delivery and its first job, when the channel sends. */
export function outboundSubscriber(d: OutboundJobDeps): Subscriber<'message.created'> {
  return defineSubscriber({
    name: 'channels.outbound',
    types: ['message.created'],
    // Only replies can go out; inbound messages and notes never make a job.
    accepts: (event) => event.data.messageType === 'outbound',
    async handle(event) {
      if (event.data.messageType !== 'outbound' || !event.conversationId) return;
      await withWorkspace(d.pool, event.workspaceId, (tx) => queueDelivery(tx, d, event.workspaceId, event.conversationId!, event.data.messageId));
    },
  });
}

interface Prepared {
  adapter: ChannelAdapter;
  message: OutboundMessage;
  inboxId: string;
  settings: Record<string, unknown>;
  prepared?: unknown;
}

/** What the adapter gets, from committed rows: the same on every attempt; null when the rows are gone. */
async function build(tx: Queryable, d: Pick<OutboundJobDeps, 'channels'>, ws: string, row: ChannelMessageRow): Promise<Prepared | null> {
  const inbox = await inboxForChannel(tx, ws, row.inbox_id);
  const conversation = await findConversationRowForChannel(tx, ws, row.conversation_id);
  const message = await findMessageForChannel(tx, ws, row.message_id);
  const adapter = inbox && d.channels.find(inbox.channel);
  if (!inbox || !conversation || !message || !adapter?.outbound) return null;
  const customer = (await customerForChannel(tx, ws, conversation.customer_id))!;
  const metadata = (message.metadata[inbox.channel] ?? {}) as Record<string, unknown>;
  return {
    adapter,
    inboxId: inbox.id,
    settings: inbox.settings,
    message: {
      deliveryId: row.id,
      messageId: message.id,
      conversationId: conversation.id,
      body: message.body_text,
      html: adapter.capabilities.html ? message.body_html : null,
      author: { type: message.author_type, name: message.author_name },
      customer,
      metadata,
    },
  };
}

/** Builds what the adapter gets, with its `prepare` step; null when the job is stale or the rows are gone. */
async function prepare(d: OutboundJobDeps, ws: string, deliveryId: string, attempt: number): Promise<Prepared | null> {
  return withWorkspace(d.pool, ws, async (tx) => {
    const row = await repo.lock(tx, ws, deliveryId);
    if (!row || row.status !== 'queued' || row.attempts !== attempt - 1) return null;
    // Another copy of this attempt's job holds it (the sweeper re-added the key while it ran): one send.
    const now = d.clock.now();
    if (row.attempt_started_at && now.getTime() - row.attempt_started_at.getTime() < SWEEP_STALE_MS) return null;
    // Its inbox was disabled after the reply was queued: settled as failed, nothing sent (an admin who
    // disables an inbox stops its mail now, not after the retries run out).
    const inbox = await inboxForChannel(tx, ws, row.inbox_id);
    if (inbox?.disabledAt) {
      await recordDelivery(tx, systemDeps(d, ws), row, { channel: inbox.channel, status: 'failed', reason: DELIVERY_REASONS.inboxDisabled });
      return null;
    }
    await repo.claimAttempt(tx, ws, deliveryId, now);
    const built = await build(tx, d, ws, row);
    if (!built?.adapter.outbound?.prepare) return built;
    const prepared = await built.adapter.outbound.prepare(tx, built.message, { workspaceId: ws, inboxId: built.inboxId, settings: built.settings, context: inTx(systemDeps(d, ws), tx) });
    return { ...built, prepared };
  });
}

/** The job: one attempt of one delivery. */
export function channelSendTask(d: OutboundJobDeps): Task {
  return async (payload) => {
    const { workspaceId: ws, deliveryId, attempt } = payload as { workspaceId: string; deliveryId: string; attempt: number };
    let p: Prepared | null;
    try {
      p = await prepare(d, ws, deliveryId, attempt);
    } catch (error) {
      // The adapter's prepare step refused for good (email: its row is gone): the dead letter now,
      // rather than a retry of the same refusal and a reply left queued until the sweeper.
      if (!(error instanceof ChannelSendError) || !error.permanent) throw error;
      await withWorkspace(d.pool, ws, async (tx) => {
        const row = await repo.lock(tx, ws, deliveryId);
        if (!row || row.status !== 'queued' || row.attempts !== attempt - 1) return;
        const inbox = await inboxForChannel(tx, ws, row.inbox_id);
        await recordDelivery(tx, systemDeps(d, ws), row, { channel: inbox?.channel ?? 'unknown', status: 'failed', reason: error.reason, attempts: attempt });
      });
      return;
    }
    if (!p) return;
    const retry = retryOf(p.adapter);
    let result: SendResult | null = null;
    let reason: string = DELIVERY_REASONS.sendFailed;
    let permanent = false;
    try {
      result = await p.adapter.outbound!.send(p.message, { workspaceId: ws, inboxId: p.inboxId, settings: p.settings, attempt, outbound: d.outbound, log: d.log, prepared: p.prepared });
    } catch (error) {
      if (error instanceof ChannelSendError) {
        reason = error.reason;
        permanent = error.permanent;
      }
      d.log.warn({ workspaceId: ws, deliveryId, channel: p.adapter.kind, attempt, permanent, err: (error as Error).message }, 'channels: delivery attempt failed');
    }
    await withWorkspace(d.pool, ws, async (tx) => {
      const row = await repo.lock(tx, ws, deliveryId);
      // Moved on meanwhile (a receipt came first, or another copy of this job finished).
      if (!row || row.status !== 'queued' || row.attempts !== attempt - 1) return;
      const deps = systemDeps(d, ws);
      if (result) {
        await recordDelivery(tx, deps, row, { channel: p.adapter.kind, status: result.status, reason: null, attempts: attempt, providerId: result.providerId });
        if (result.providerId) await applyEarlyReceipts(tx, deps, p.adapter.kind, row.inbox_id, result.providerId);
      } else if (permanent || attempt >= retry.maxAttempts) {
        await recordDelivery(tx, deps, row, { channel: p.adapter.kind, status: 'failed', reason, attempts: attempt });
      } else {
        const runAt = new Date(d.clock.now().getTime() + backoffMs(p.adapter, attempt + 1));
        await recordDelivery(tx, deps, row, { channel: p.adapter.kind, status: 'queued', reason, attempts: attempt, nextAttemptAt: runAt });
        await enqueueAttempt(tx, ws, deliveryId, attempt + 1, runAt);
      }
    });
  };
}

/** graphile-worker's crontab admits no dots in task names. */
export const SWEEP_TASK = 'channels_sweep';
export const SWEEP_CRONTAB = `*/5 * * * * ${SWEEP_TASK}`;
/**
 * Past its next attempt by this much, a queued reply has lost its job (an attempt takes seconds).
 * Also the lease of a job's claim on its attempt: a claim older than this is a job that died.
 */
export const SWEEP_STALE_MS = 10 * 60_000;
/** Queued for longer than every backoff together (minutes with the core's default, about an hour for email's) plus a wide margin: given up. */
export const SWEEP_GIVE_UP_MS = 24 * 3_600_000;
/** How long a webhook's delivery key is kept against replays (channel_webhook_deliveries). */
export const WEBHOOK_DELIVERY_TTL_MS = 24 * 3_600_000;
const SWEEP_BATCH = 500;

/**
 * The sweeper: a reply stuck in `queued` because its job is gone (a `channels.send` job that
 * exhausted graphile-worker's own attempts on a database error, a queue emptied by hand) is
 * re-enqueued for its next attempt, or failed when its channel cannot send any more
 * (`channel.unavailable`) or when it has waited a day (`channel.send_expired`, the dead letter).
 * The job key of that attempt is reused, so a job that still waits runs now instead of twice; one
 * that is running holds a claim on the attempt (attempt_started_at, taken under the row lock before
 * the send), which both the sweeper and a second copy of the job respect; a stale copy that runs
 * later finds the row moved on and does nothing.
 */
export async function sweepStaleDeliveries(d: Pick<OutboundJobDeps, 'pool' | 'clock' | 'channels' | 'log'>): Promise<{ requeued: number; failed: number }> {
  const now = d.clock.now();
  const stale = await withSystem(d.pool, (tx) => repo.stale(tx, new Date(now.getTime() - SWEEP_STALE_MS), SWEEP_BATCH));
  const counts = { requeued: 0, failed: 0 };
  for (const { workspace_id: ws, id } of stale) {
    const outcome = await withWorkspace(d.pool, ws, async (tx) => {
      const row = await repo.lock(tx, ws, id);
      if (!row || row.status !== 'queued') return null;
      // Claimed by a job since the query read it: being sent.
      if (row.attempt_started_at && now.getTime() - row.attempt_started_at.getTime() < SWEEP_STALE_MS) return null;
      const inbox = await inboxForChannel(tx, ws, row.inbox_id);
      const adapter = inbox && d.channels.find(inbox.channel);
      const createdAt = (await repo.createdAt(tx, ws, id))!;
      const deps = systemDeps(d, ws);
      if (!adapter?.outbound || now.getTime() - createdAt.getTime() > SWEEP_GIVE_UP_MS) {
        const reason = adapter?.outbound ? DELIVERY_REASONS.expired : DELIVERY_REASONS.unavailable;
        await recordDelivery(tx, deps, row, { channel: adapter?.kind ?? inbox?.channel ?? 'unknown', status: 'failed', reason });
        return 'failed' as const;
      }
      await repo.setNextAttempt(tx, ws, id, now);
      await enqueueAttempt(tx, ws, id, row.attempts + 1);
      return 'requeued' as const;
    });
    if (outcome) counts[outcome]++;
  }
  if (counts.requeued || counts.failed) d.log.warn({ ...counts }, 'channels: swept replies stuck in queued');
  // Receipts kept while the reply's id was being recorded (the webhook read before the job's commit).
  for (const m of await withSystem(d.pool, (tx) => repo.matchedEarlyReceipts(tx, SWEEP_BATCH))) {
    await withWorkspace(d.pool, m.workspace_id, async (tx) => {
      const inbox = await inboxForChannel(tx, m.workspace_id, m.inbox_id);
      if (inbox) await applyEarlyReceipts(tx, systemDeps(d, m.workspace_id), inbox.channel, m.inbox_id, m.provider_id);
    });
  }
  // Receipts that never found their reply (an id of a message sent some other way, a lost reply).
  await withSystem(d.pool, (tx) => repo.purgeEarlyReceipts(tx, new Date(now.getTime() - EARLY_RECEIPT_TTL_MS)));
  // Webhook delivery keys older than a day: a replay that old fails the signed-timestamp window.
  await withSystem(d.pool, (tx) => repo.purgeWebhookDeliveries(tx, new Date(now.getTime() - WEBHOOK_DELIVERY_TTL_MS)));
  return counts;
}

export function sweepTask(d: Pick<OutboundJobDeps, 'pool' | 'clock' | 'channels' | 'log'>): Task {
  return async () => {
    await sweepStaleDeliveries(d);
  };
}
