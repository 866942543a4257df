import type { Queryable } from '../../db/pool.js';
import { recordEvents } from '../../events/outbox.js';
import type { WorkspaceContext } from '../context.js';
import { channelConversationsRepository as repo, type ChannelConversationRow } from './conversations.channels.repository.js';
import { conversationsRepository, type MessageRow } from './conversations.repository.js';
import { appendMessage } from './conversations.service.js';

/**
 * Service functions for channel adapters (email, chat, ...): they work inside the channel's own
 * transaction, so what arrived, the conversation and the message commit together. Channels use
 * these instead of touching the conversation tables.
 */

/** Opens a conversation for a known customer in an inbox, with its first inbound message. */
export async function openConversationFromChannel(
  tx: Queryable,
  deps: WorkspaceContext,
  input: { inboxId: string; customerId: string; subject: string | null; body: string; html?: string; metadata?: Record<string, unknown>; at: Date },
): Promise<{ conversationId: string; number: number; messageId: string }> {
  const ws = deps.workspaceId;
  const number = await conversationsRepository.nextNumber(tx, ws);
  const conversationId = await conversationsRepository.insert(tx, {
    workspaceId: ws, number, inboxId: input.inboxId, customerId: input.customerId, subject: input.subject, priority: 'normal', tags: [], at: input.at,
  });
  const messageId = await appendMessage(tx, deps, {
    conversationId, type: 'inbound', author: { type: 'customer', id: input.customerId }, body: input.body, html: input.html, metadata: input.metadata, at: input.at,
  }, [{ workspaceId: ws, conversationId, type: 'conversation.created', actor: deps.actor, data: { number, inboxId: input.inboxId, customerId: input.customerId }, at: input.at }]);
  return { conversationId, number, messageId };
}

/**
 * Adds an inbound message from a customer (or a participant) to an existing conversation. A
 * resolved, closed or snoozed conversation reopens: the customer wrote again, so it needs an answer.
 */
export async function appendInboundFromChannel(
  tx: Queryable,
  deps: WorkspaceContext,
  input: { conversationId: string; authorCustomerId: string; body: string; html?: string; metadata?: Record<string, unknown>; at: Date },
): Promise<{ messageId: string; reopened: boolean }> {
  const ws = deps.workspaceId;
  const current = await repo.lockStatus(tx, ws, input.conversationId);
  if (!current) throw new Error('conversation vanished');
  const reopened = current.status !== 'open' && current.status !== 'pending';
  if (reopened) await repo.reopen(tx, ws, input.conversationId, input.at);
  const messageId = await appendMessage(tx, deps, {
    conversationId: input.conversationId, type: 'inbound', author: { type: 'customer', id: input.authorCustomerId },
    body: input.body, html: input.html, metadata: input.metadata, at: input.at,
  }, reopened
    ? [{ workspaceId: ws, conversationId: input.conversationId, type: 'conversation.status_changed', actor: deps.actor, data: { from: current.status, to: 'open', snoozedUntil: null, reason: 'customer_replied' }, at: input.at }]
    : []);
  return { messageId, reopened };
}

export async function findConversationForChannel(tx: Queryable, ws: string, conversationId: string): Promise<ChannelConversationRow | undefined> {
  return repo.findConversation(tx, ws, conversationId);
}

/**
 * A message as channels read it: the one message read model (the row behind the API's message view,
 * same statement), so a channel and the agent app never disagree on a message or its author's name.
 */
export async function findMessageForChannel(tx: Queryable, ws: string, messageId: string): Promise<ChannelMessageRow | undefined> {
  return conversationsRepository.findMessage(tx, ws, messageId);
}

/** The name channels know the message row by: the same type as the API's (`MessageRow`). */
export type ChannelMessageRow = MessageRow;

/**
 * Merges channel facts (delivery status, ...) into metadata[key] of a message and announces it
 * with a `message.updated` event so open agent views refresh.
 */
export async function updateMessageChannelMetadata(
  tx: Queryable,
  deps: WorkspaceContext,
  input: { conversationId: string; messageId: string; key: string; patch: Record<string, unknown>; at: Date },
): Promise<void> {
  if (!(await repo.mergeMessageMetadata(tx, deps.workspaceId, input.messageId, input.key, input.patch))) return;
  await recordEvents(tx, [{
    workspaceId: deps.workspaceId, conversationId: input.conversationId, type: 'message.updated', actor: deps.actor,
    data: { messageId: input.messageId, fields: [`metadata.${input.key}`] }, at: input.at,
  }]);
}

export type { ChannelConversationRow };
