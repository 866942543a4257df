import type { Task } from 'graphile-worker';
import type { Pool, Queryable } from '../../db/pool.js';
import { withWorkspace } from '../../db/tenancy.js';
import { recordEvents } from '../../events/outbox.js';
import { defineSubscriber, type Subscriber } from '../../events/subscribers.js';
import { enqueue } from '../../jobs/queue.js';
import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';
import type { OutboundGuard } from '../../lib/outbound/outbound.guard.js';
import type { WorkspaceContext } from '../context.js';
import { findConversationForChannel, findMessageForChannel, updateMessageChannelMetadata } from '../conversations/conversations.channels.js';
import { customerForChannel } from '../customers/customers.service.js';
import { inboxForChannel } from '../inboxes/inboxes.service.js';
import { ChannelSendError, type ChannelAdapter, type ChannelRegistry, type DeliveryStatus, type OutboundMessage, type SendResult } from './channels.registry.js';
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

/**
 * A delivery receipt from the provider (a webhook): moves the state forward only (a late "sent"
 * never undoes "read"), and never revives a failed delivery except by a receipt of delivery.
 * Returns false when no reply of this inbox has that provider id.
 */
export async function applyReceipt(
  tx: Queryable,
  deps: WorkspaceContext,
  input: { channel: string; inboxId: string; providerId: string; status: Exclude<DeliveryStatus, 'queued'>; reason?: string },
): Promise<boolean> {
  const row = await repo.lockByProviderId(tx, deps.workspaceId, input.inboxId, input.providerId);
  if (!row || !row.status) return false;
  const forward = input.status === 'failed' ? row.status === 'queued' || row.status === 'sent' : row.status === 'failed' ? input.status !== 'sent' : ORDER[input.status] > ORDER[row.status];
  if (forward) await recordDelivery(tx, deps, row, { channel: input.channel, status: input.status, reason: input.status === 'failed' ? (input.reason ?? 'channel.provider_failed') : null });
  return true;
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
      const ws = event.workspaceId;
      const messageId = event.data.messageId;
      await withWorkspace(d.pool, ws, async (tx) => {
        const conversation = await findConversationForChannel(tx, ws, event.conversationId!);
        if (!conversation) return;
        const adapter = d.channels.find(conversation.channel);
        if (!adapter?.outbound) return;
        const id = await repo.insertOutbound(tx, { workspaceId: ws, inboxId: conversation.inbox_id, conversationId: conversation.id, messageId, at: d.clock.now() });
        if (!id) return; // queued by an earlier delivery of this event
        const row = (await repo.lock(tx, ws, id))!;
        await recordDelivery(tx, systemDeps(d, ws), row, { channel: adapter.kind, status: 'queued', reason: null, attempts: 0 });
        await enqueue(tx, CHANNEL_SEND_TASK, { workspaceId: ws, deliveryId: id, attempt: 1 }, { jobKey: `channels.send:${id}:1`, maxAttempts: 3 });
      });
    },
  });
}

interface Prepared {
  adapter: ChannelAdapter;
  message: OutboundMessage;
  inboxId: string;
  settings: Record<string, unknown>;
}

/** Builds what the adapter gets from committed rows; null when the job is stale or the rows are gone. */
async function prepare(d: OutboundJobDeps, ws: string, deliveryId: string, attempt: number): Promise<Prepared | null> {
  return withWorkspace(d.pool, ws, async (tx) => {
    const row = await repo.lock(tx, ws, deliveryId);
    if (!row || row.status !== 'queued' || row.attempts !== attempt - 1) return null;
    const inbox = await inboxForChannel(tx, ws, row.inbox_id);
    const conversation = await findConversationForChannel(tx, ws, row.conversation_id);
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
        deliveryId,
        messageId: message.id,
        conversationId: conversation.id,
        body: message.body_text,
        html: adapter.capabilities.html ? message.body_html : null,
        author: { type: message.author_type, name: message.author_name },
        customer,
        metadata,
      },
    };
  });
}

/** The job: one attempt of one delivery. */
export function channelSendTask(d: OutboundJobDeps): Task {
  return async (payload) => {
    const { workspaceId: ws, deliveryId, attempt } = payload as { workspaceId: string; deliveryId: string; attempt: number };
    const p = await prepare(d, ws, deliveryId, attempt);
    if (!p) return;
    const retry = retryOf(p.adapter);
    let result: SendResult | null = null;
    let reason: string = DELIVERY_REASONS.sendFailed;
    let permanent = false;
    try {
      result = await p.adapter.outbound!.send(p.message, { workspaceId: ws, inboxId: p.inboxId, settings: p.settings, attempt, outbound: d.outbound, log: d.log });
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
      } else if (permanent || attempt >= retry.maxAttempts) {
        await recordDelivery(tx, deps, row, { channel: p.adapter.kind, status: 'failed', reason, attempts: attempt });
      } else {
        const runAt = new Date(d.clock.now().getTime() + backoffMs(p.adapter, attempt + 1));
        await recordDelivery(tx, deps, row, { channel: p.adapter.kind, status: 'queued', reason, attempts: attempt, nextAttemptAt: runAt });
        await enqueue(tx, CHANNEL_SEND_TASK, { workspaceId: ws, deliveryId, attempt: attempt + 1 }, { jobKey: `channels.send:${deliveryId}:${attempt + 1}`, runAt, maxAttempts: 3 });
      }
    });
  };
}
