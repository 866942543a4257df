import { randomUUID } from 'node:crypto';
import type { Queryable } from '../../db/pool.js';
import { inWorkspaceTx } from '../../db/tenancy.js';
import type { EventData, EventType } from '../../events/events.types.js';
import { eventForStatement, newEvent, recordEvents, type NewEvent } from '../../events/outbox.js';
import { assertInboxSendsReplies } from '../inboxes/inboxes.service.js';
import { conversationTimeline } from '../../events/reads.js';
import { decodeCursor, encodeCursor } from '../../lib/cursor.js';
import { AppError, commonErrors } from '../../lib/errors.js';
import { enqueue } from '../../jobs/queue.js';

export const WAKE_SNOOZED_TASK = 'conversations.wake_snoozed';
import { preview, sanitizeMessageHtml } from '../../lib/html.js';
import type { Visibility } from '../auth/roles.js';
import { inTx, principalOf, type WorkspaceContext } from '../context.js';
import { IdentityRace, findOrCreateCustomer } from '../customers/customers.service.js';
import { teamExists } from '../teams/teams.service.js';
import { isAgentOf } from '../workspaces/workspaces.service.js';
import { withAuthorNames, withLastAuthorNames } from './conversations.authors.js';
import { conversationErrors } from './conversations.errors.js';
import type { SearchLimiter } from './conversations.search.limiter.js';
import { conversationSearchRepository as searchRepo } from './conversations.search.repository.js';
import { searchPage, searchWords } from './conversations.search.service.js';
import type { SearchWords } from './conversations.search.repository.js';
import { conversationsRepository as repo, toConversationView, toMessageView, type ConversationRow, type ListFilter, type SortOrder } from './conversations.repository.js';
import {
  MAX_TAGS,
  PRIORITIES,
  Tag,
  type BulkActionInput,
  type BulkResult,
  type Priority,
  type AuthorType,
  type ConversationView,
  type CreateConversationInput,
  type ListConversationsQuery,
  type MessageKind,
  type MessageView,
  type UpdateConversationInput,
} from './conversations.schemas.js';

export function normalizeTags(tags: string[]): string[] {
  return [...new Set(tags.map((t) => t.trim().toLowerCase()))].sort();
}

/** Retries a transaction that lost a race on a unique identity to a concurrent request. */
async function retryOnRace<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (!(error instanceof IdentityRace) || attempt >= 3) throw error;
    }
  }
}

/**
 * Opens a conversation with its first inbound message, creating (or finding) the customer by
 * identity. Conversation, message, customer and their events commit together, in two statements
 * besides the transaction's own: the customers module's find-or-create, then this module's one
 * statement for the inbox choice, number, conversation, message, search documents and events
 * (conversationsRepository.createWithFirstMessage). Ids are chosen here so every event payload is
 * checked against the catalogue before the statement runs.
 */
export async function createConversation(deps: WorkspaceContext, input: CreateConversationInput & { metadata?: Record<string, unknown> }): Promise<ConversationView> {
  return retryOnRace(() =>
    inWorkspaceTx(deps, async (tx) => {
      const ws = deps.workspaceId;
      const at = deps.clock.now();
      const customer = await findOrCreateCustomer(tx, deps, input.customer, at);
      const id = randomUUID();
      const messageId = randomUUID();
      const inboxId = input.inboxId ?? null;
      // The number and the default inbox come from the statement: checked with stand-ins, set in SQL.
      const created = eventForStatement({
        workspaceId: ws,
        conversationId: id,
        type: 'conversation.created',
        actor: deps.actor,
        data: { number: 1, inboxId: inboxId ?? id, customerId: customer.customerId },
        at,
      });
      const message = eventForStatement({ workspaceId: ws, conversationId: id, type: 'message.created', actor: deps.actor, data: { messageId, messageType: 'inbound' }, at });
      const row = await repo.createWithFirstMessage(tx, {
        workspaceId: ws,
        id,
        inboxId,
        customerId: customer.customerId,
        subject: input.subject ?? null,
        priority: input.priority ?? 'normal',
        tags: normalizeTags(input.tags ?? []),
        at,
        preview: preview(input.message.body),
        message: { id: messageId, bodyText: input.message.body, bodyHtml: input.message.html ? sanitizeMessageHtml(input.message.html) : null, metadata: input.metadata ?? {} },
        actor: deps.actor,
        events: { created: created.data, message: message.data },
      });
      if (!row) throw input.inboxId ? conversationErrors.inboxNotFound() : conversationErrors.noDefaultInbox();
      return toConversationView({ ...row, customer_name: customer.name, customer_email: customer.email, customer_phone: customer.phone });
    }),
  );
}

/**
 * A new conversation in a known inbox with its first inbound text message from a known customer,
 * in the caller's transaction: one statement (conversationsRepository.createWithFirstMessage: the
 * number, the conversation with its inbox columns, the message, the search documents and the
 * conversation.created and message.created events), for the channels' ingest path. Undefined when
 * the inbox does not exist.
 */
export async function openWithFirstMessage(
  tx: Queryable,
  deps: WorkspaceContext,
  input: { inboxId: string; customerId: string; subject: string | null; body: string; html?: string; metadata?: Record<string, unknown>; at: Date },
): Promise<{ conversationId: string; number: number; messageId: string } | undefined> {
  const ws = deps.workspaceId;
  const id = randomUUID();
  const messageId = randomUUID();
  // The number comes from the statement: checked with a stand-in, set in SQL.
  const created = eventForStatement({
    workspaceId: ws,
    conversationId: id,
    type: 'conversation.created',
    actor: deps.actor,
    data: { number: 1, inboxId: input.inboxId, customerId: input.customerId },
    at: input.at,
  });
  const message = eventForStatement({ workspaceId: ws, conversationId: id, type: 'message.created', actor: deps.actor, data: { messageId, messageType: 'inbound' }, at: input.at });
  const row = await repo.createWithFirstMessage(tx, {
    workspaceId: ws,
    id,
    inboxId: input.inboxId,
    customerId: input.customerId,
    subject: input.subject,
    priority: 'normal',
    tags: [],
    at: input.at,
    preview: preview(input.body),
    message: { id: messageId, bodyText: input.body, bodyHtml: input.html ? sanitizeMessageHtml(input.html) : null, metadata: input.metadata ?? {} },
    actor: deps.actor,
    events: { created: created.data, message: message.data },
  });
  return row && { conversationId: row.id, number: Number(row.number), messageId };
}

/**
 * Adds a message and keeps the conversation's inbox columns in step, in the caller's transaction.
 * Channels call this too. `extraEvents` are recorded before `message.created`, in one insert.
 */
export async function appendMessage(
  tx: Queryable,
  deps: WorkspaceContext,
  m: {
    conversationId: string;
    type: 'inbound' | 'outbound' | 'note';
    author: { type: AuthorType; id: string | null };
    body: string;
    html?: string;
    metadata?: Record<string, unknown>;
    at: Date;
    /** text unless a channel says otherwise (a call it reports, a system notice). */
    kind?: MessageKind;
  },
  extraEvents: NewEvent[] = [],
): Promise<string> {
  const ws = deps.workspaceId;
  const bodyHtml = m.html ? sanitizeMessageHtml(m.html) : null;
  const messageId = await repo.insertMessage(tx, {
    workspaceId: ws,
    conversationId: m.conversationId,
    type: m.type,
    authorType: m.author.type,
    authorId: m.author.id,
    bodyText: m.body,
    bodyHtml,
    metadata: m.metadata ?? {},
    at: m.at,
    kind: m.kind,
  });
  const inboxId = await repo.afterMessage(tx, ws, m.conversationId, { type: m.type, preview: preview(m.body), at: m.at, author: m.author });
  // A disabled inbox sends nothing: the reply is refused, in this transaction, before any event (notes still work).
  if (m.type === 'outbound' && inboxId) await assertInboxSendsReplies(tx, ws, inboxId);
  await recordEvents(tx, [...extraEvents, { workspaceId: ws, conversationId: m.conversationId, type: 'message.created', actor: deps.actor, data: { messageId, messageType: m.type }, at: m.at }]);
  return messageId;
}

/** `visibility`: what the reader may see (auth/roles.ts); reads default to everything for agents and jobs. */
export async function getConversation(deps: WorkspaceContext, id: string, visibility: Visibility = 'internal'): Promise<ConversationView> {
  const row = await inWorkspaceTx(deps, (tx) => repo.find(tx, deps.workspaceId, id));
  if (!row) throw conversationErrors.notFound();
  return toConversationView(row, visibility);
}

/**
 * The inbox list, or a search in it when `q` has text. A search is paced per user or API token
 * (`searchLimiter`) and reads a bounded number of rows (conversations.search.service.ts); its page
 * may hold fewer than `limit` items and still have a nextCursor (the search goes on from there).
 */
export const SEARCH_NEXT_PAGE_COST = 0.25;

export async function listConversations(deps: WorkspaceContext & { userId: string | null; searchLimiter: SearchLimiter }, query: ListConversationsQuery, visibility: Visibility = 'internal') {
  const { filter, sort, limit, after } = listQueryOf(deps, query, visibility);
  if (filter.q) {
    // The app follows a search's cursor on its own while pages come back short (the search goes on
    // from where the bounded walk stopped): a next page costs a quarter of a new search, so reading
    // one search to its end does not use up the burst, yet pages cannot be had for free.
    deps.searchLimiter.take(principalOf(deps.actor), after ? SEARCH_NEXT_PAGE_COST : 1);
    return inWorkspaceTx(deps, async (tx) => {
      const { rows, nextCursor } = await searchRows(tx, deps.workspaceId, filter, sort, after, searchWords(filter.q!, { notes: visibility === 'internal' }), limit);
      return {
        items: await withLastAuthorNames(
          tx,
          deps.workspaceId,
          rows.map((r) => toConversationView(r, visibility)),
        ),
        nextCursor,
      };
    });
  }
  return inWorkspaceTx(deps, async (tx) => {
    const rows = await repo.list(tx, deps.workspaceId, filter, sort, limit, after);
    const last = rows.length === limit ? rows[rows.length - 1] : undefined;
    // The authors' names: one look-up for the page (conversations.authors.ts), in the list's transaction.
    const items = await withLastAuthorNames(
      tx,
      deps.workspaceId,
      rows.map((r) => toConversationView(r, visibility)),
    );
    return { items, nextCursor: last ? encodeCursor([last.sort_key ?? '', last.id]) : null };
  });
}

/** The list's filter, order, page size and cursor from its query, as the reader sees the list. */
function listQueryOf(deps: { userId: string | null }, query: ListConversationsQuery, visibility: Visibility) {
  const filter: ListFilter = {
    statuses: query.status ? [...new Set(query.status)] : undefined,
    inboxId: query.inbox,
    priority: query.priority,
    tag: query.tag?.trim().toLowerCase(),
    customerId: query.customer,
    q: query.q?.trim() || undefined,
  };
  if (query.assignee === 'none') filter.assignee = { kind: 'none' };
  else if (query.assignee === 'me') filter.assignee = deps.userId ? { kind: 'user', id: deps.userId } : { kind: 'none' };
  else if (query.assignee) filter.assignee = { kind: 'user', id: uuidOrInvalid(query.assignee, 'assignee') };
  if (query.team === 'none') filter.team = { kind: 'none' };
  else if (query.team) filter.team = { kind: 'team', id: uuidOrInvalid(query.team, 'team') };
  // A client viewer's list is ordered, and its cursor keyed, by public activity: a note moves neither (0280).
  const asked = query.sort ?? 'last_activity';
  const sort: SortOrder = asked === 'last_activity' && visibility !== 'internal' ? 'last_public_activity' : asked;
  const limit = query.limit ?? 50;
  const after = query.cursor ? (decodeCursor(query.cursor, [sort === 'waiting_longest' ? 'timestamp?' : 'timestamp', 'uuid']) as [string, string]) : undefined;
  return { filter, sort, limit, after };
}

/** One bounded page of a search (conversations.search.service.ts) as rows, and the cursor to go on. */
async function searchRows(tx: Queryable, ws: string, filter: ListFilter, sort: SortOrder, after: [string, string] | undefined, words: SearchWords, limit: number) {
  const page = await searchPage(tx, ws, filter, sort, after, words, limit);
  const rows = await repo.listByIds(tx, ws, page.ids, sort);
  const last = rows.length === limit ? rows[rows.length - 1] : undefined;
  const next = last ? [last.sort_key ?? '', last.id] : page.resumeAt;
  return { rows, nextCursor: next ? encodeCursor(next) : null };
}

/** Why a conversation was found: its #number, its customer, a message (with an excerpt) or its subject. */
export interface SearchMatch {
  kind: 'number' | 'customer' | 'message' | 'subject' | null;
  messageId: string | null;
  snippet: string | null;
}

/**
 * The conversations part of the global search (search module): the same bounded search as the
 * list's `q`, in every status unless `status` narrows it, also matching the conversations of
 * `customerIds` (the customers the search found by name or phone), each row with why it matched.
 * Not paced here: the caller paces the whole search once.
 */
export async function searchConversations(
  deps: WorkspaceContext & { userId: string | null },
  query: ListConversationsQuery & { q: string; from?: Date; to?: Date; customerIds?: string[] },
  visibility: Visibility = 'internal',
): Promise<{ items: (ConversationView & { match: SearchMatch })[]; nextCursor: string | null }> {
  const { filter, sort, limit, after } = listQueryOf(deps, query, visibility);
  if (query.from || query.to) filter.activity = { from: query.from, to: query.to };
  // A client viewer's search never matches, nor quotes, the words of an internal note.
  const words: SearchWords = { ...searchWords(query.q.trim(), { notes: visibility === 'internal' }), customerIds: query.customerIds };
  return inWorkspaceTx(deps, async (tx) => {
    const { rows, nextCursor } = await searchRows(tx, deps.workspaceId, filter, sort, after, words, limit);
    const why = new Map(
      (
        await searchRepo.matches(
          tx,
          deps.workspaceId,
          rows.map((r) => r.id),
          words,
        )
      ).map((m) => [m.id, m]),
    );
    const items = rows.map((r) => {
      const m = why.get(r.id);
      return { ...toConversationView(r, visibility), match: { kind: m?.kind ?? null, messageId: m?.message_id ?? null, snippet: m?.snippet ?? null } };
    });
    return { items, nextCursor };
  });
}

function uuidOrInvalid(value: string, field: string): string {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value)) {
    throw commonErrors.validation(undefined, { errors: [{ path: `querystring.${field}`, message: field === 'assignee' ? 'must be an id, "me" or "none"' : 'must be an id or "none"' }] });
  }
  return value.toLowerCase();
}

/**
 * Changes status, priority, assignee, team, tags or subject; each change is its own timeline event.
 * `change` may be computed from the locked row (a bulk "add this tag"). Every refusal (not found, not
 * an agent, too many tags, ...) is thrown before anything is written, so a caller composing several
 * updates in one transaction (bulkUpdateConversations) can report it and go on.
 */
export async function updateConversation(deps: WorkspaceContext, id: string, change: UpdateConversationInput | ((current: ConversationRow) => UpdateConversationInput)): Promise<ConversationView> {
  const ws = deps.workspaceId;
  return inWorkspaceTx(deps, async (tx) => {
    const current = await repo.lock(tx, ws, id);
    if (!current) throw conversationErrors.notFound();
    const input = typeof change === 'function' ? change(current) : change;
    const at = deps.clock.now();
    const set: Record<string, unknown> = {};
    const events: NewEvent[] = [];
    const event = <T extends EventType>(type: T, data: EventData<T>) => events.push(newEvent({ workspaceId: ws, conversationId: id, type, actor: deps.actor, data, at }));

    if (input.status !== undefined || input.snoozedUntil !== undefined) {
      const status = input.status ?? current.status;
      let snoozedUntil: Date | null = null;
      if (status === 'snoozed') {
        const until = input.snoozedUntil ? new Date(input.snoozedUntil) : null;
        if (!until || until.getTime() <= at.getTime()) throw conversationErrors.snoozeNeedsTime();
        snoozedUntil = until;
      }
      if (status !== current.status || snoozedUntil?.getTime() !== current.snoozed_until?.getTime()) {
        set.status = status;
        set.snoozed_until = snoozedUntil;
        if (status === 'resolved' || status === 'closed') set.resolved_at = current.resolved_at && (current.status === 'resolved' || current.status === 'closed') ? current.resolved_at : at;
        else set.resolved_at = null;
        event('conversation.status_changed', { from: current.status, to: status, snoozedUntil: snoozedUntil?.toISOString() ?? null, reason: 'manual' });
      }
    }
    if (input.priority !== undefined && input.priority !== current.priority) {
      set.priority = input.priority;
      event('conversation.priority_changed', { from: current.priority, to: input.priority });
    }
    if (input.assigneeId !== undefined && input.assigneeId !== current.assignee_id) {
      if (input.assigneeId && !(await isAgentOf(inTx(deps, tx), input.assigneeId))) throw conversationErrors.assigneeNotFound();
      set.assignee_id = input.assigneeId;
      event('conversation.assigned', { from: current.assignee_id, to: input.assigneeId });
    }
    if (input.teamId !== undefined && input.teamId !== current.team_id) {
      if (input.teamId && !(await teamExists(inTx(deps, tx), input.teamId))) throw conversationErrors.teamNotFound();
      set.team_id = input.teamId;
      event('conversation.team_changed', { from: current.team_id, to: input.teamId });
    }
    if (input.tags !== undefined) {
      const tags = normalizeTags(input.tags);
      // The body schema caps a list at MAX_TAGS, but a macro adds its tags to the ones already there.
      if (tags.length > MAX_TAGS) throw conversationErrors.tooManyTags();
      if (tags.join('\n') !== current.tags.join('\n')) {
        set.tags = tags;
        event('conversation.tags_changed', { added: tags.filter((t) => !current.tags.includes(t)), removed: current.tags.filter((t) => !tags.includes(t)) });
      }
    }
    if (input.subject !== undefined && input.subject !== current.subject) {
      set.subject = input.subject;
      event('conversation.subject_changed', { from: current.subject, to: input.subject });
    }
    if (events.length > 0) {
      set.updated_at = at;
      await repo.update(tx, ws, id, set);
      if (typeof set.subject === 'string') await searchRepo.addDocument(tx, ws, { conversationId: id, messageId: null, text: set.subject });
      await recordEvents(tx, events);
      if (set.status === 'snoozed' && set.snoozed_until instanceof Date) {
        await enqueue(tx, WAKE_SNOOZED_TASK, { workspaceId: ws, conversationId: id }, { runAt: set.snoozed_until, jobKey: `wake:${id}` });
      }
    }
    return toConversationView((await repo.find(tx, ws, id))!);
  });
}

/**
 * One action on up to MAX_BULK conversations, in one transaction, each through updateConversation (its
 * own events, the same checks as a single update). Per conversation, a refusal (not found, which is also
 * another workspace's id; too many tags) is reported in its result and leaves it unchanged while the
 * others apply. A value wrong for the whole action (an unknown assignee, a snooze in the past) answers
 * 422 and changes nothing; any other failure rolls the whole batch back.
 */
export async function bulkUpdateConversations(deps: WorkspaceContext, input: BulkActionInput): Promise<BulkResult> {
  const change = bulkChange(input, deps.clock.now());
  return inWorkspaceTx(deps, async (tx) => {
    const ctx = inTx(deps, tx);
    if (input.action === 'assign' && input.value && !(await isAgentOf(ctx, input.value))) throw conversationErrors.assigneeNotFound();
    const outcome = new Map<string, BulkResult['results'][number]>();
    // Locked in id order, so two bulk actions over the same rows never wait on each other in a cycle.
    for (const id of [...new Set(input.ids.map((i) => i.toLowerCase()))].sort()) {
      try {
        await updateConversation(ctx, id, change);
        outcome.set(id, { id, ok: true });
      } catch (error) {
        if (!(error instanceof AppError) || error.status >= 500) throw error;
        outcome.set(id, { id, ok: false, code: error.code, message: error.title });
      }
    }
    const results = input.ids.map((id) => ({ ...outcome.get(id.toLowerCase())!, id }));
    return { results, changed: results.filter((r) => r.ok).length };
  });
}

/** What a bulk action changes on each conversation; its value checked once for all of them. */
function bulkChange(input: BulkActionInput, now: Date): UpdateConversationInput | ((current: ConversationRow) => UpdateConversationInput) {
  const value = input.value ?? null;
  const invalid = (message: string) => commonErrors.validation(undefined, { errors: [{ path: 'body.value', message }] });
  switch (input.action) {
    case 'assign':
      if (value !== null && !UUID.test(value)) throw invalid('Choose an agent to assign, or nobody');
      return { assigneeId: value?.toLowerCase() ?? null };
    case 'status':
      if (value !== 'open' && value !== 'pending' && value !== 'resolved' && value !== 'closed') throw invalid('Choose open, pending, resolved or closed (snoozing needs a time: use snooze)');
      return { status: value };
    case 'priority':
      if (!PRIORITIES.includes(value as Priority)) throw invalid('Choose a priority: low, normal, high or urgent');
      return { priority: value as Priority };
    case 'tag':
    case 'untag': {
      const tag = value?.trim().toLowerCase() ?? '';
      if (!tag || tag.length > 50 || !TAG.test(tag)) throw invalid('A tag is letters, digits, spaces and _ . : / - (at most 50 characters)');
      return input.action === 'tag' ? (c) => ({ tags: [...c.tags, tag] }) : (c) => ({ tags: c.tags.filter((t) => t !== tag) });
    }
    case 'snooze': {
      const until = value ? new Date(value) : null;
      if (!until || Number.isNaN(until.getTime()) || !/^\d{4}-\d{2}-\d{2}T/.test(value!)) throw invalid('Choose when the conversations wake up');
      if (until.getTime() <= now.getTime()) throw invalid('Choose a time in the future to snooze until');
      return { status: 'snoozed', snoozedUntil: until.toISOString() };
    }
    case 'close':
      return { status: 'closed' };
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TAG = new RegExp((Tag as { pattern?: string }).pattern!, 'u');

/** An agent's reply (outbound) or internal note, written by the caller. */
/** What a reply may carry for the collision check (see ReplyGuard in conversations.schemas.ts). */
export interface ReplyGuardInput {
  lastSeenMessageId?: string;
  sendAnyway?: boolean;
}

/**
 * The collision check of a reply ("traffic cop"): with `lastSeenMessageId` and without `sendAnyway`,
 * refuses with 409 `conversations.reply_collision` (the newer messages in the problem) when someone
 * else added a public message after the one the agent saw. Run it in the reply's transaction, after
 * locking the conversation, so a reply that passes cannot be overtaken by one checked at the same time.
 */
export async function checkReplyCollision(deps: WorkspaceContext, conversationId: string, guard: ReplyGuardInput): Promise<void> {
  if (!guard.lastSeenMessageId || guard.sendAnyway) return;
  const seenId = guard.lastSeenMessageId;
  const ws = deps.workspaceId;
  await inWorkspaceTx(deps, async (tx) => {
    const author = { type: deps.actor.type === 'token' ? 'token' : 'user', id: deps.actor.id };
    const newer = await repo.publicMessagesAfter(tx, ws, conversationId, seenId, author);
    if (newer === null) throw conversationErrors.lastSeenNotFound();
    if (newer.length === 0) return;
    const messages = (await withAuthorNames(tx, ws, newer)).map((r) => toMessageView(r, 'internal'));
    const who = messages.some((m) => m.type === 'inbound') ? 'The customer' : 'Another agent';
    throw conversationErrors.replyCollision(`${who} replied since you opened the conversation: read the new message before sending.`, { extensions: { messages } });
  });
}

export async function addMessage(deps: WorkspaceContext, conversationId: string, input: { type: 'reply' | 'note'; body: string; html?: string } & ReplyGuardInput): Promise<MessageView> {
  const ws = deps.workspaceId;
  return inWorkspaceTx(deps, async (tx) => {
    const current = await repo.lock(tx, ws, conversationId);
    if (!current) throw conversationErrors.notFound();
    if (input.type === 'reply') await checkReplyCollision(inTx(deps, tx), conversationId, input);
    const author = { type: deps.actor.type === 'token' ? ('token' as const) : ('user' as const), id: deps.actor.id };
    const messageId = await appendMessage(tx, deps, {
      conversationId,
      type: input.type === 'reply' ? 'outbound' : 'note',
      author,
      body: input.body,
      html: input.html,
      at: deps.clock.now(),
    });
    return toMessageView((await withAuthorNames(tx, ws, [(await repo.findMessage(tx, ws, messageId))!]))[0]);
  });
}

export async function listMessages(deps: WorkspaceContext, conversationId: string, q: { limit?: number; cursor?: string; order?: 'asc' | 'desc' }, visibility: Visibility = 'internal') {
  const ws = deps.workspaceId;
  const limit = q.limit ?? 50;
  const after = q.cursor ? (decodeCursor(q.cursor, ['timestamp', 'uuid']) as [string, string]) : undefined;
  return inWorkspaceTx(deps, async (tx) => {
    if (!(await repo.exists(tx, ws, conversationId))) throw conversationErrors.notFound();
    const rows = await withAuthorNames(tx, ws, await repo.listMessages(tx, ws, conversationId, { limit, order: q.order ?? 'asc', after, visibility }));
    const last = rows.length === limit ? rows[rows.length - 1] : undefined;
    return { items: rows.map((r) => toMessageView(r, visibility)), nextCursor: last ? encodeCursor([last.sort_key, last.id]) : null };
  });
}

export async function listEvents(deps: WorkspaceContext, conversationId: string, q: { limit?: number; cursor?: string; exclude?: string[] }, visibility: Visibility = 'internal') {
  const ws = deps.workspaceId;
  const limit = q.limit ?? 50;
  const afterId = q.cursor ? decodeCursor(q.cursor, ['int'])[0] : undefined;
  return inWorkspaceTx(deps, async (tx) => {
    if (!(await repo.exists(tx, ws, conversationId))) throw conversationErrors.notFound();
    const rows = await conversationTimeline(tx, ws, conversationId, { limit, afterId, exclude: q.exclude ?? [], audience: visibility === 'internal' ? 'agents' : 'clients' });
    const last = rows.length === limit ? rows[rows.length - 1] : undefined;
    return {
      items: rows.map((r) => ({ id: r.id, type: r.type, actor: { type: r.actor_type, id: r.actor_id }, data: r.data, createdAt: r.created_at.toISOString() })),
      nextCursor: last ? encodeCursor([last.id]) : null,
    };
  });
}

export type { ConversationRow };

/** Reopens a conversation whose snooze has ended. Safe to run twice, or after someone reopened it. */
export async function wakeSnoozedConversation(deps: WorkspaceContext, id: string): Promise<boolean> {
  const ws = deps.workspaceId;
  return inWorkspaceTx(deps, async (tx) => {
    const current = await repo.lock(tx, ws, id);
    const at = deps.clock.now();
    if (!current || current.status !== 'snoozed' || !current.snoozed_until || current.snoozed_until.getTime() > at.getTime()) return false;
    await repo.update(tx, ws, id, { status: 'open', snoozed_until: null, updated_at: at, last_activity_at: at, last_public_activity_at: at });
    await recordEvents(tx, [
      { workspaceId: ws, conversationId: id, type: 'conversation.status_changed', actor: deps.actor, data: { from: 'snoozed', to: 'open', snoozedUntil: null, reason: 'snooze_ended' }, at },
    ]);
    return true;
  });
}

/** Whether the conversation exists in the workspace (a typing notice names one: realtime checks it here). */
export async function conversationExists(deps: Pick<WorkspaceContext, 'pool' | 'workspaceId' | 'tx'>, id: string): Promise<boolean> {
  return inWorkspaceTx(deps, (tx) => repo.exists(tx, deps.workspaceId, id));
}

/**
 * The customer of each named conversation, keyed `workspaceId:conversationId` (no RLS context of its
 * own: the realtime hub asks in system context, one query per batch of events, to route each event to
 * its conversation's customer sockets).
 */
export async function conversationCustomers(tx: Queryable, refs: Array<{ workspaceId: string; id: string }>): Promise<Map<string, string>> {
  if (refs.length === 0) return new Map();
  return new Map((await repo.customersOf(tx, refs)).map((r) => [`${r.workspace_id}:${r.id}`, r.customer_id]));
}

/** The ids of a customer's conversations, in the caller's transaction (a customer socket's replay). */
export async function conversationIdsOfCustomer(tx: Queryable, ws: string, customerId: string): Promise<string[]> {
  return repo.idsOfCustomer(tx, ws, customerId);
}

/**
 * Conversations by id as agents see them in the list and detail (no RLS context of its own: the
 * caller's transaction or connection decides; the realtime hub reads in system context, one query per
 * workspace and batch of events, to send each event with its conversation).
 */
export async function conversationViewsByIds(tx: Queryable, ws: string, ids: string[]): Promise<ConversationView[]> {
  if (ids.length === 0) return [];
  return (await repo.listByIds(tx, ws, ids, 'last_activity')).map((r) => toConversationView(r, 'internal'));
}

/**
 * A message with its author's name and its conversation as agents see it (number, subject, assignee),
 * in the caller's transaction: what a notification says about a note or a reply. Undefined when gone.
 */
export async function messageInConversation(tx: Queryable, ws: string, messageId: string): Promise<{ message: MessageView; conversation: ConversationView } | undefined> {
  const row = await repo.findMessage(tx, ws, messageId);
  if (!row) return undefined;
  const [named] = await withAuthorNames(tx, ws, [row]);
  const [conversation] = await conversationViewsByIds(tx, ws, [row.conversation_id]);
  return conversation && { message: toMessageView(named, 'internal'), conversation };
}
