import type { Queryable } from '../../db/pool.js';
import { recordEvents } from '../../events/outbox.js';
import type { WorkspaceContext } from '../context.js';
import { channelConversationsRepository as repo, type ChannelConversationOwnRow, type ChannelConversationRow } from './conversations.channels.repository.js';
import { withAuthorNames } from './conversations.authors.js';
import { conversationsRepository, type MessageRow } from './conversations.repository.js';
import { appendMessage, openWithFirstMessage } from './conversations.service.js';
import type { MessageKind } from './conversations.schemas.js';
import { customerForChannel, findOrCreateCustomer, type ChannelIdentity } from '../customers/customers.service.js';
import { inboxForChannel } from '../inboxes/inboxes.service.js';

/**
 * Service functions for channel adapters (email, chat, ...): they work inside the channel's own
 * transaction, so what arrived, the conversation and the message commit together. Channels use
 * these instead of touching the conversation tables.
 */

/**
 * Opens a conversation for a known customer in an inbox, with its first inbound message: a text
 * message in one statement (openWithFirstMessage), another kind (a call) in steps.
 */
async function openConversationFromChannel(
  tx: Queryable,
  deps: WorkspaceContext,
  input: { inboxId: string; customerId: string; subject: string | null; body: string; html?: string; kind?: MessageKind; metadata?: Record<string, unknown>; at: Date },
): Promise<{ conversationId: string; number: number; messageId: string }> {
  const ws = deps.workspaceId;
  // A text message (what email and most channels bring): one statement for all of it.
  if ((input.kind ?? 'text') === 'text') {
    const opened = await openWithFirstMessage(tx, deps, input);
    if (!opened) throw new Error('inbox vanished');
    return opened;
  }
  const number = await conversationsRepository.nextNumber(tx, ws);
  const conversationId = await conversationsRepository.insert(tx, {
    workspaceId: ws,
    number,
    inboxId: input.inboxId,
    customerId: input.customerId,
    subject: input.subject,
    priority: 'normal',
    tags: [],
    at: input.at,
  });
  const messageId = await appendMessage(
    tx,
    deps,
    {
      conversationId,
      type: 'inbound',
      author: { type: 'customer', id: input.customerId },
      body: input.body,
      html: input.html,
      kind: input.kind,
      metadata: input.metadata,
      at: input.at,
    },
    [{ workspaceId: ws, conversationId, type: 'conversation.created', actor: deps.actor, data: { number, inboxId: input.inboxId, customerId: input.customerId }, at: input.at }],
  );
  return { conversationId, number, messageId };
}

/**
 * Adds an inbound message from a customer (or a participant) to an existing conversation. A
 * resolved, closed or snoozed conversation reopens: the customer wrote again, so it needs an answer.
 */
async function appendInboundFromChannel(
  tx: Queryable,
  deps: WorkspaceContext,
  input: { conversationId: string; authorCustomerId: string; body: string; html?: string; kind?: MessageKind; metadata?: Record<string, unknown>; at: Date },
): Promise<{ messageId: string; reopened: boolean }> {
  const ws = deps.workspaceId;
  const current = await repo.lockStatus(tx, ws, input.conversationId);
  if (!current) throw new Error('conversation vanished');
  const reopened = current.status !== 'open' && current.status !== 'pending';
  if (reopened) await repo.reopen(tx, ws, input.conversationId, input.at);
  const messageId = await appendMessage(
    tx,
    deps,
    {
      conversationId: input.conversationId,
      type: 'inbound',
      author: { type: 'customer', id: input.authorCustomerId },
      body: input.body,
      html: input.html,
      kind: input.kind,
      metadata: input.metadata,
      at: input.at,
    },
    reopened
      ? [
          {
            workspaceId: ws,
            conversationId: input.conversationId,
            type: 'conversation.status_changed',
            actor: deps.actor,
            data: { from: current.status, to: 'open', snoozedUntil: null, reason: 'customer_replied' },
            at: input.at,
          },
        ]
      : [],
  );
  return { messageId, reopened };
}

/** How an inbound message finds its conversation (the channel decides; ingestInbound applies it). */
export type ThreadRule =
  /** The channel threaded it itself (email: reply token, Message-IDs). */
  | { conversationId: string }
  /** The customer's newest conversation in this inbox that is not closed; a new one when none. */
  | 'latest_open'
  /** Always a new conversation. */
  | 'new';

export interface IngestInput {
  inboxId: string;
  /**
   * Who wrote: found by these identities (the first that matches), or created holding them all; or a
   * customer the channel already settled (email decides between the conversation's customer, a
   * participant and a forward's original sender itself, and must not rename or create anyone else).
   */
  customer: { identities: ChannelIdentity[]; name?: string } | { customerId: string };
  thread: ThreadRule;
  subject?: string | null;
  body: string;
  html?: string;
  kind?: MessageKind;
  metadata?: Record<string, unknown>;
  at: Date;
}

export interface IngestResult {
  conversationId: string;
  messageId: string;
  customerId: string;
  opened: boolean;
  reopened: boolean;
}

/**
 * The one conversation-ingest path for every channel, inside the channel's transaction: finds or
 * creates the customer by identity, threads the message to a conversation (or opens one), appends
 * it as the customer's, and reopens a resolved, closed or snoozed conversation (the customer wrote
 * again, so it needs an answer). Events are recorded with the customer as actor.
 */
export async function ingestInbound(tx: Queryable, deps: WorkspaceContext, input: IngestInput): Promise<IngestResult> {
  const ws = deps.workspaceId;
  const customerId =
    'customerId' in input.customer
      ? input.customer.customerId
      : (await findOrCreateCustomer(tx, deps, { identities: input.customer.identities, name: input.customer.name?.slice(0, 200) }, input.at)).customerId;
  const asCustomer: WorkspaceContext = { ...deps, actor: { type: 'customer', id: customerId } };
  let conversationId: string | undefined;
  if (typeof input.thread === 'object') conversationId = input.thread.conversationId;
  else if (input.thread === 'latest_open') conversationId = await repo.latestOpenOfCustomer(tx, ws, input.inboxId, customerId);
  if (conversationId) {
    const { messageId, reopened } = await appendInboundFromChannel(tx, asCustomer, {
      conversationId,
      authorCustomerId: customerId,
      body: input.body,
      html: input.html,
      kind: input.kind,
      metadata: input.metadata,
      at: input.at,
    });
    return { conversationId, messageId, customerId, opened: false, reopened };
  }
  const opened = await openConversationFromChannel(tx, asCustomer, {
    inboxId: input.inboxId,
    customerId,
    subject: input.subject ? input.subject.slice(0, 500) : null,
    body: input.body,
    html: input.html,
    kind: input.kind,
    metadata: input.metadata,
    at: input.at,
  });
  return { conversationId: opened.conversationId, messageId: opened.messageId, customerId, opened: true, reopened: false };
}

/**
 * A bot's answer in a conversation: an outbound message authored by `bot`, which the outbound job
 * sends like an agent's reply. `bot.name` is what the thread shows as the author.
 */
export async function appendBotReply(
  tx: Queryable,
  deps: WorkspaceContext,
  input: { conversationId: string; bot: { id?: string | null; name: string }; body: string; html?: string; kind?: MessageKind; at: Date },
): Promise<string> {
  return appendMessage(
    tx,
    { ...deps, actor: { type: 'system', id: null } },
    {
      conversationId: input.conversationId,
      type: 'outbound',
      author: { type: 'bot', id: input.bot.id ?? null },
      body: input.body,
      html: input.html,
      kind: input.kind,
      metadata: { bot: { name: input.bot.name } },
      at: input.at,
    },
  );
}

/**
 * A conversation as a channel reads it: its own row, its inbox's channel (`inboxes` service) and
 * its customer's name and first email (`customers` service), in the channel's transaction. Three
 * primary-key reads, one per owner (they were one joined statement before each table had one
 * owner): the outbound queue, each send attempt and email threading pay two more round trips.
 */
/** The conversation's own columns only (its inbox and customer ids), one primary-key read: for a caller that reads the inbox and the customer itself. */
export async function findConversationRowForChannel(tx: Queryable, ws: string, conversationId: string): Promise<ChannelConversationOwnRow | undefined> {
  return repo.findConversation(tx, ws, conversationId);
}

export async function findConversationForChannel(tx: Queryable, ws: string, conversationId: string, opts: { lock?: boolean } = {}): Promise<ChannelConversationRow | undefined> {
  const conversation = opts.lock ? await repo.lockConversation(tx, ws, conversationId) : await repo.findConversation(tx, ws, conversationId);
  if (!conversation) return undefined;
  const inbox = await inboxForChannel(tx, ws, conversation.inbox_id);
  const customer = await customerForChannel(tx, ws, conversation.customer_id);
  if (!inbox || !customer) return undefined;
  return {
    ...conversation,
    channel: inbox.channel,
    customer_name: customer.name,
    customer_email: customer.identities.find((i) => i.kind === 'email')?.value ?? null,
  };
}

/**
 * A message as channels read it: the one message read model (the row behind the API's message view,
 * same statement), so a channel and the agent app never disagree on a message or its author's name.
 */
export async function findMessageForChannel(tx: Queryable, ws: string, messageId: string): Promise<ChannelMessageRow | undefined> {
  const row = await conversationsRepository.findMessage(tx, ws, messageId);
  return row && (await withAuthorNames(tx, ws, [row]))[0];
}

/** The name channels know the message row by: the same type as the API's (`MessageRow`). */
/** Which of `ids` are still messages of the workspace (for files owned by messages, see the attachments collector). */
export async function existingMessageIds(tx: Queryable, ws: string, ids: string[]): Promise<string[]> {
  return repo.existingMessages(tx, ws, ids);
}

/** Which of `ids` are still conversations of the workspace. */
export async function existingConversationIds(tx: Queryable, ws: string, ids: string[]): Promise<string[]> {
  return repo.existingConversations(tx, ws, ids);
}

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
  await recordEvents(tx, [
    {
      workspaceId: deps.workspaceId,
      conversationId: input.conversationId,
      type: 'message.updated',
      actor: deps.actor,
      data: { messageId: input.messageId, fields: [`metadata.${input.key}`] },
      at: input.at,
    },
  ]);
}

export type { ChannelConversationRow };
