import type { Queryable } from '../../db/pool.js';
import type { Visibility } from '../auth/roles.js';
import { inboxForNewConversationSql } from '../inboxes/inboxes.service.js';
import type { ConversationView, MessageKind, MessageView, Priority, Status } from './conversations.schemas.js';

/** The only SQL for conversations and their messages. Every statement names workspace_id. */
export interface ConversationRow {
  id: string;
  number: string;
  inbox_id: string;
  channel: string;
  customer_id: string;
  customer_name: string | null;
  customer_email: string | null;
  customer_phone: string | null;
  subject: string | null;
  status: Status;
  snoozed_until: Date | null;
  priority: Priority;
  assignee_id: string | null;
  team_id: string | null;
  tags: string[];
  created_at: Date;
  updated_at: Date;
  last_activity_at: Date;
  last_public_activity_at: Date;
  waiting_since: Date | null;
  first_response_at: Date | null;
  resolved_at: Date | null;
  last_message_preview: string | null;
  last_message_type: string | null;
  last_message_author_type?: string | null;
  last_message_author_id?: string | null;
  message_count: number;
  note_count: number;
  revision: number;
  sort_key?: string | null;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** A client viewer's count leaves internal notes out, so it does not reveal that any exist. */
export function toConversationView(r: ConversationRow, visibility: Visibility = 'internal'): ConversationView {
  return {
    id: r.id,
    number: Number(r.number),
    inboxId: r.inbox_id,
    channel: r.channel,
    customer: { id: r.customer_id, name: r.customer_name, email: r.customer_email, phone: r.customer_phone },
    subject: r.subject,
    status: r.status,
    snoozedUntil: iso(r.snoozed_until),
    priority: r.priority,
    assigneeId: r.assignee_id,
    teamId: r.team_id,
    tags: r.tags,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
    // A client viewer's clock moves only with what they can see: a note moves neither (0260).
    lastActivityAt: (visibility === 'internal' ? r.last_activity_at : r.last_public_activity_at).toISOString(),
    waitingSince: iso(r.waiting_since),
    firstResponseAt: iso(r.first_response_at),
    resolvedAt: iso(r.resolved_at),
    lastMessage: r.last_message_type ? { type: r.last_message_type, preview: r.last_message_preview ?? '', author: lastAuthorOf(r) } : null,
    messageCount: visibility === 'internal' ? r.message_count : r.message_count - r.note_count,
    // Agents only: it rises with a note too, so a client viewer would learn that one was written.
    ...(visibility === 'internal' ? { revision: r.revision } : {}),
  };
}

/**
 * Who wrote the previewed message. The customer's name is on the row; an agent's or token's is filled
 * by the service's one look-up per page (`withLastAuthorNames`). Rows older than 0460 have no author:
 * the message type says which kind it was.
 */
function lastAuthorOf(r: ConversationRow): { type: string; id: string | null; name: string | null } {
  const type = r.last_message_author_type ?? (r.last_message_type === 'inbound' ? 'customer' : 'user');
  const id = r.last_message_author_id ?? (type === 'customer' ? r.customer_id : null);
  return { type, id, name: type === 'customer' && id === r.customer_id ? r.customer_name : null };
}

const SELECT_VIEW = (sortKey = 'null', from = 'conversations c') => `
  select c.id, c.number, c.inbox_id,
    -- Per-row primary-key probes, not joins: a page is at most 100 rows, and with the statistics of
    -- a young workspace (a few hundred rows, not yet analyzed) a join let the planner scan every
    -- customer of the workspace for each row (17 ms for 50 rows; EXPLAIN in the closing note).
    (select i.channel from inboxes i where i.workspace_id = c.workspace_id and i.id = c.inbox_id) as channel,
    c.customer_id,
    (select cu.name from customers cu where cu.workspace_id = c.workspace_id and cu.id = c.customer_id) as customer_name,
    ids.customer_email, ids.customer_phone,
    c.subject, c.status, c.snoozed_until, c.priority, c.assignee_id, c.team_id, c.tags, c.created_at, c.updated_at,
    c.last_activity_at, c.last_public_activity_at, c.waiting_since, c.first_response_at, c.resolved_at, c.last_message_preview, c.last_message_type,
    c.last_message_author_type, c.last_message_author_id, c.message_count, c.note_count, c.revision, ${sortKey} as sort_key
  from ${from}
  -- The customer's first email and phone from one probe of (workspace_id, customer_id): two
  -- subselects filtered on kind let the planner walk the workspace's (workspace_id, kind, value)
  -- index instead, reading every phone of the workspace for each row when statistics say phones
  -- are rare (seen in EXPLAIN with 1M customers; bench/inbox-read.bench.ts).
  cross join lateral (
    select (array_agg(ci.value order by ci.created_at) filter (where ci.kind = 'email'))[1] as customer_email,
           (array_agg(ci.value order by ci.created_at) filter (where ci.kind = 'phone'))[1] as customer_phone
    from customer_identities ci where ci.workspace_id = c.workspace_id and ci.customer_id = c.customer_id) ids`;

export interface ListFilter {
  statuses?: Status[];
  assignee?: { kind: 'none' } | { kind: 'user'; id: string };
  team?: { kind: 'none' } | { kind: 'team'; id: string };
  inboxId?: string;
  priority?: Priority;
  tag?: string;
  customerId?: string;
  q?: string;
  /** Last activity (as the reader sees it: public activity for a client viewer) at or after `from`, before `to`. */
  activity?: { from?: Date; to?: Date };
}

/**
 * The list orders. `last_public_activity` is not asked for by callers: it is `last_activity` as a
 * client viewer sees it (the service picks it), so that a note, which moves only last_activity_at,
 * neither reorders a client viewer's list nor shows its time in the cursor (0260, 0280).
 */
export type SortOrder = 'last_activity' | 'waiting_longest' | 'last_public_activity';

export interface MessageRow {
  id: string;
  conversation_id: string;
  type: 'inbound' | 'outbound' | 'note';
  author_type: string;
  author_id: string | null;
  author_name: string | null;
  kind: MessageKind;
  body_text: string;
  body_html: string | null;
  metadata: Record<string, unknown>;
  created_at: Date;
}

/**
 * What a client viewer sees of a message's metadata. Channel facts are for agents: the delivery state
 * (metadata.delivery: provider errors, attempts and their times) and each channel's own block
 * (metadata.email, metadata.<channel>: sender and recipient addresses, headers, the sender check,
 * threading, provider ids, delivery details) are left out, except a block's `attachments` list (the
 * message's files, which a client viewer may list and download anyway). Plain values stay.
 */
function publicMetadata(metadata: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(metadata ?? {})) {
    if (k === 'delivery') continue;
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const files = (v as Record<string, unknown>).attachments;
      if (Array.isArray(files)) out[k] = { attachments: files };
    } else out[k] = v;
  }
  return out;
}

export function toMessageView(r: MessageRow, visibility: Visibility = 'internal'): MessageView {
  return {
    id: r.id,
    conversationId: r.conversation_id,
    type: r.type,
    author: { type: r.author_type, id: r.author_id, name: r.author_name },
    body: r.body_text,
    html: r.body_html,
    metadata: visibility === 'internal' ? r.metadata : publicMetadata(r.metadata),
    createdAt: r.created_at.toISOString(),
    // Absent for text, so every answer from before message kinds reads the same.
    ...(r.kind && r.kind !== 'text' ? { kind: r.kind } : {}),
  };
}

/**
 * A message as stored. `author_name` is filled here only for a bot (its name travels in the
 * metadata); the names of people and tokens belong to the customers and workspaces modules, and
 * `withAuthorNames` (conversations.authors.ts) asks them once per page.
 */
const SELECT_MESSAGE = `
  select m.id, m.conversation_id, m.type, m.author_type, m.author_id, m.body_text, m.body_html, m.metadata, m.created_at, m.kind,
    case when m.author_type = 'bot' then m.metadata #>> '{bot,name}' end as author_name
  from messages m`;

/**
 * The fixed statements of the write path and of single-conversation reads are named prepared
 * statements: each pooled connection parses and plans them once, then reuses the plan. Planning was
 * half of PostgreSQL's time per conversation create (the view select alone took 0.65 ms to plan and
 * 0.2 ms to run; see bench/write-path.bench.ts). The inbox list is not prepared: its text varies with
 * the filters, and per-call plans suit skewed filters (one busy assignee, a rare tag) better than a
 * generic plan. A name always maps to one text (pg rejects a name reused with another text).
 */
const named = (name: string, text: string, values: unknown[]) => ({ name: `conversations.${name}`, text, values });
const FIND_SQL = `${SELECT_VIEW()} where c.workspace_id = $1 and c.id = $2`;

const STATUSES: Status[] = ['open', 'pending', 'snoozed', 'resolved', 'closed'];

/**
 * The `waiting_longest` order: oldest wait first, conversations nobody waits on last, by id. As one
 * expression it is a total order with the id, so the cursor is a row comparison and the walk is an
 * index (conversations_status_waiting_idx, migration 0300). The cursor carries '' for "not waiting"
 * (the sort key of the page's rows), read back as 'infinity'.
 */
const WAITING = (alias: string) => `coalesce(${alias}.waiting_since, 'infinity'::timestamptz)`;

/** ORDER BY and cursor condition of `sort` over columns named like conversations' (`c`) or conversation_tags' (`t`). */
function orderSql(sort: SortOrder, on: 'c' | 't', after: [string, string] | undefined, p: (v: unknown) => string) {
  const id = on === 'c' ? 'c.id' : 't.conversation_id';
  if (sort === 'waiting_longest') {
    const key = on === 'c' ? WAITING('c') : 't.waiting_key';
    // The `>=` is implied by the row comparison; it is there for the planner, which misjudged how many
    // rows a row comparison leaves when most keys are equal ('infinity': 925 ms at 1M, bench).
    const k = after ? p(after[0] === '' ? 'infinity' : after[0]) : '';
    const keyset = after ? `${key} >= ${k}::timestamptz and (${key}, ${id}) > (${k}::timestamptz, ${p(after[1])}::uuid)` : null;
    return { order: `${key} asc, ${id} asc`, keyset };
  }
  const column = sort === 'last_public_activity' ? 'last_public_activity_at' : 'last_activity_at';
  const key = `${on}.${column}`;
  const keyset = after ? `(${key}, ${id}) < (${p(after[0])}::timestamptz, ${p(after[1])}::uuid)` : null;
  return { order: `${key} desc, ${id} desc`, keyset };
}

/** The cursor key of a row in each order (the text of its sort column). */
const SORT_KEY: Record<SortOrder, string> = {
  last_activity: 'c.last_activity_at::text',
  last_public_activity: 'c.last_public_activity_at::text',
  waiting_longest: "coalesce(c.waiting_since::text, '')",
};

/** The conditions on `c` of the filters other than status, tag and the search words. */
function otherFilters(f: ListFilter, sort: SortOrder, p: (v: unknown) => string): string[] {
  const where: string[] = [];
  // A range on the list's own sort column narrows the same index walk (an index condition in the
  // last_activity orders; a row check in waiting_longest).
  const activity = sort === 'last_public_activity' ? 'c.last_public_activity_at' : 'c.last_activity_at';
  if (f.activity?.from) where.push(`${activity} >= ${p(f.activity.from)}::timestamptz`);
  if (f.activity?.to) where.push(`${activity} < ${p(f.activity.to)}::timestamptz`);
  if (f.assignee?.kind === 'none') where.push('c.assignee_id is null');
  if (f.assignee?.kind === 'user') where.push(`c.assignee_id = ${p(f.assignee.id)}`);
  if (f.team?.kind === 'none') where.push('c.team_id is null');
  if (f.team?.kind === 'team') where.push(`c.team_id = ${p(f.team.id)}`);
  if (f.inboxId) where.push(`c.inbox_id = ${p(f.inboxId)}`);
  if (f.priority) where.push(`c.priority = ${p(f.priority)}`);
  if (f.customerId) where.push(`c.customer_id = ${p(f.customerId)}`);
  return where;
}

const binder = (params: unknown[]) => (v: unknown) => {
  params.push(v);
  return `$${params.length}`;
};

/**
 * The WHERE conditions (on `c`), ORDER BY and cursor key of the inbox list for the filters other than
 * the search words, appending their values to `params` (the workspace is $1). The flat form: right for
 * a bounded set of rows (search candidates); an ordered walk of the whole list is listSourceSql.
 */
export function listFilterSql(f: ListFilter, sort: SortOrder, after: [string, string] | undefined, params: unknown[]) {
  const p = binder(params);
  const where = ['c.workspace_id = $1'];
  if (f.statuses?.length === 1) where.push(`c.status = ${p(f.statuses[0])}`);
  else if (f.statuses?.length) where.push(`c.status = any(${p(f.statuses)}::text[])`);
  where.push(...otherFilters(f, sort, p));
  if (f.tag) where.push(`c.tags @> array[${p(f.tag)}::text]`);
  const { order, keyset } = orderSql(sort, 'c', after, p);
  if (keyset) where.push(keyset);
  return { where, order, sortKey: SORT_KEY[sort] };
}

/**
 * The list's conversations (rows of `conversations`) in list order after the cursor, at most `limit`
 * (a parameter placeholder), as a subquery to alias `c`. Written so that each part is an ordered walk
 * of one index that stops after `limit` rows, whatever the filters (issue #14, 1M conversations):
 *  - several statuses (the priority and tag views: open and pending) are one walk per status, merged
 *    by the outer ORDER BY (an index gives the order only within one status);
 *  - no status with the `waiting_longest` order or a tag: one walk per status too, because those
 *    indexes lead with the status (conversations_status_waiting_idx, conversation_tags_*_idx);
 *  - a tag walks conversation_tags in the list order and reads each conversation by its key (the
 *    array operator cannot use an index under row-level security; migration 0301), in a client
 *    viewer's order too (last_public_activity_at is in conversation_tags since 0302).
 * A customer's conversations are few: one plain query, the planner sorts them.
 */
export function listSourceSql(f: ListFilter, sort: SortOrder, after: [string, string] | undefined, params: unknown[], limit: string): string {
  const p = binder(params);
  let statuses: (Status | null)[] = f.statuses?.length ? [...new Set(f.statuses)] : [null];
  if (statuses[0] === null && !f.customerId && (sort === 'waiting_longest' || f.tag)) statuses = STATUSES;
  const tag = f.tag ? p(f.tag) : null;
  const outer = orderSql(sort, 'c', undefined, p).order;
  const branches = statuses.map((status) => {
    const s = status === null ? null : p(status);
    const where = [...otherFilters(f, sort, p)];
    if (tag) {
      const { order, keyset } = orderSql(sort, 't', after, p);
      where.unshift('t.workspace_id = $1', `t.tag = ${tag}`, ...(s ? [`t.status = ${s}`] : []));
      if (keyset) where.push(keyset);
      return `select c.* from conversation_tags t join conversations c on c.workspace_id = $1 and c.id = t.conversation_id
        where ${where.join(' and ')} order by ${order} limit ${limit}`;
    }
    const { order, keyset } = orderSql(sort, 'c', after, p);
    where.unshift('c.workspace_id = $1', ...(s ? [`c.status = ${s}`] : []));
    if (keyset) where.push(keyset);
    return `select c.* from conversations c where ${where.join(' and ')} order by ${order} limit ${limit}`;
  });
  if (branches.length === 1) return `(${branches[0]}) c`;
  return `(select c.* from (${branches.map((b) => `(${b})`).join(' union all ')}) c order by ${outer} limit ${limit}) c`;
}

export const conversationsRepository = {
  async nextNumber(tx: Queryable, ws: string): Promise<number> {
    const { rows } = await tx.query<{ n: string }>(named('next_number', 'select rapport_next_conversation_number($1) as n', [ws]));
    return Number(rows[0].n);
  },

  /**
   * A new conversation with its first inbound message as one statement: the inbox (the named one or
   * the default API inbox, inboxes module's subquery), its number, the conversation with its inbox
   * columns already as afterMessage would leave them, the message, both search documents and the
   * conversation.created and message.created events (checked by the caller; the number and the chosen
   * inbox are only known here, so they are set into the checked payload). No row when the inbox does not exist.
   */
  async createWithFirstMessage(
    tx: Queryable,
    c: {
      workspaceId: string;
      id: string;
      inboxId: string | null;
      customerId: string;
      subject: string | null;
      priority: Priority;
      tags: string[];
      at: Date;
      preview: string;
      message: { id: string; bodyText: string; bodyHtml: string | null; metadata: Record<string, unknown> };
      actor: { type: string; id: string | null };
      events: { created: string; message: string };
    },
  ): Promise<ConversationRow | undefined> {
    const { rows } = await tx.query<Omit<ConversationRow, 'customer_name' | 'customer_email' | 'customer_phone'>>(
      named(
        'create_with_first_message',
        `with ib as ${inboxForNewConversationSql('$1', '$3')},
         n as (select rapport_next_conversation_number($1) as number from ib),
         c as (
           insert into conversations (workspace_id, id, number, inbox_id, customer_id, subject, priority, tags, created_at, updated_at,
             last_activity_at, last_public_activity_at, waiting_since, last_message_preview, last_message_type, last_message_author_type, last_message_author_id, message_count)
           select $1, $2, n.number, ib.id, $4, $5, $6, $7, $8, $8, $8, $8, $8, $9, 'inbound', 'customer', $4, 1 from ib, n
           returning *),
         cd as (insert into search_documents (workspace_id, conversation_id, message_id, search)
                select workspace_id, id, null, subject_search from c where subject_search <> ''::tsvector),
         m as (
           insert into messages (workspace_id, id, conversation_id, type, author_type, author_id, body_text, body_html, metadata, created_at, kind)
           select $1, $10, c.id, 'inbound', 'customer', $4, $11, $12, $13, $8, 'text' from c
           returning workspace_id, conversation_id, id, search),
         md as (insert into search_documents (workspace_id, conversation_id, message_id, search)
                select workspace_id, conversation_id, id, search from m where search <> ''::tsvector),
         ev as (
           insert into events (workspace_id, conversation_id, type, actor_type, actor_id, data, created_at)
           select $1, c.id, e.type, $14, $15, e.data, $8
           from c cross join lateral (values (1, 'conversation.created', $16::jsonb || jsonb_build_object('number', c.number, 'inboxId', c.inbox_id)), (2, 'message.created', $17::jsonb)) e(ord, type, data)
           order by e.ord)
         select c.id, c.number, c.inbox_id, ib.channel, c.customer_id, c.subject, c.status, c.snoozed_until, c.priority, c.assignee_id, c.team_id,
           c.tags, c.created_at, c.updated_at, c.last_activity_at, c.last_public_activity_at, c.waiting_since, c.first_response_at, c.resolved_at, c.last_message_preview,
           c.last_message_type, c.last_message_author_type, c.last_message_author_id, c.message_count, c.note_count, c.revision
         from c, ib`,
        [
          c.workspaceId,
          c.id,
          c.inboxId,
          c.customerId,
          c.subject,
          c.priority,
          c.tags,
          c.at,
          c.preview,
          c.message.id,
          c.message.bodyText,
          c.message.bodyHtml,
          JSON.stringify(c.message.metadata),
          c.actor.type,
          c.actor.id,
          c.events.created,
          c.events.message,
        ],
      ),
    );
    return rows[0] && { ...rows[0], customer_name: null, customer_email: null, customer_phone: null };
  },

  async insert(
    tx: Queryable,
    c: {
      workspaceId: string;
      number: number;
      inboxId: string;
      customerId: string;
      subject: string | null;
      priority: Priority;
      tags: string[];
      at: Date;
    },
  ): Promise<string> {
    const { rows } = await tx.query<{ id: string }>(
      named(
        'insert',
        // The subject's search document in the same statement (search_documents: migration 0020).
        `with c as (
         insert into conversations (workspace_id, number, inbox_id, customer_id, subject, priority, tags, created_at, updated_at, last_activity_at, last_public_activity_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $8, $8, $8) returning workspace_id, id, subject_search),
       d as (insert into search_documents (workspace_id, conversation_id, message_id, search)
             select workspace_id, id, null, subject_search from c where subject_search <> ''::tsvector)
       select id from c`,
        [c.workspaceId, c.number, c.inboxId, c.customerId, c.subject, c.priority, c.tags, c.at],
      ),
    );
    return rows[0].id;
  },

  async insertMessage(
    tx: Queryable,
    m: {
      workspaceId: string;
      conversationId: string;
      type: 'inbound' | 'outbound' | 'note';
      authorType: string;
      authorId: string | null;
      bodyText: string;
      bodyHtml: string | null;
      metadata: Record<string, unknown>;
      at: Date;
      kind?: MessageKind;
    },
  ): Promise<string> {
    const { rows } = await tx.query<{ id: string }>(
      named(
        'insert_message',
        // The message's search document in the same statement, from the tsvector PostgreSQL computed.
        `with m as (
         insert into messages (workspace_id, conversation_id, type, author_type, author_id, body_text, body_html, metadata, created_at, kind)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) returning workspace_id, conversation_id, id, search),
       d as (insert into search_documents (workspace_id, conversation_id, message_id, search)
             select workspace_id, conversation_id, id, search from m where search <> ''::tsvector)
       select id from m`,
        [m.workspaceId, m.conversationId, m.type, m.authorType, m.authorId, m.bodyText, m.bodyHtml, JSON.stringify(m.metadata), m.at, m.kind ?? 'text'],
      ),
    );
    return rows[0].id;
  },

  /**
   * Keeps the inbox columns in step with a new message: activity time, preview, count, when the
   * customer started waiting (first unanswered inbound) and the first response (first reply).
   * A note moves last_activity_at only: last_public_activity_at (what a client viewer is shown, 0260)
   * and updated_at stay, since nothing a client viewer sees of the conversation changed.
   */
  /** Returns the conversation's inbox (the caller checks that a reply may leave through it). */
  async afterMessage(
    tx: Queryable,
    ws: string,
    id: string,
    m: { type: 'inbound' | 'outbound' | 'note'; preview: string; at: Date; author: { type: string; id: string | null } },
  ): Promise<string | undefined> {
    const { rows } = await tx.query<{ inbox_id: string }>(
      named(
        'after_message',
        `update conversations set
         last_activity_at = greatest(last_activity_at, $3),
         last_public_activity_at = case when $4 = 'note' then last_public_activity_at else greatest(last_public_activity_at, $3) end,
         updated_at = case when $4 = 'note' then updated_at else $3 end,
         message_count = message_count + 1,
         note_count = note_count + case when $4 = 'note' then 1 else 0 end,
         last_message_preview = case when $4 = 'note' then last_message_preview else $5 end,
         last_message_type = case when $4 = 'note' then last_message_type else $4 end,
         last_message_author_type = case when $4 = 'note' then last_message_author_type else $6 end,
         last_message_author_id = case when $4 = 'note' then last_message_author_id else $7::uuid end,
         waiting_since = case $4 when 'inbound' then coalesce(waiting_since, $3) when 'outbound' then null else waiting_since end,
         first_response_at = case when $4 = 'outbound' then coalesce(first_response_at, $3) else first_response_at end
       where workspace_id = $1 and id = $2
       returning inbox_id`,
        [ws, id, m.at, m.type, m.preview, m.author.type, m.author.id],
      ),
    );
    return rows[0]?.inbox_id;
  },

  async find(tx: Queryable, ws: string, id: string): Promise<ConversationRow | undefined> {
    const { rows } = await tx.query<ConversationRow>(named('find', FIND_SQL, [ws, id]));
    return rows[0];
  },

  /** Whether the conversation exists in the workspace (no lock taken). */
  /** The customer of each conversation named (any workspace the caller's context admits: the realtime hub reads in system context). */
  async customersOf(tx: Queryable, refs: Array<{ workspaceId: string; id: string }>): Promise<Array<{ workspace_id: string; id: string; customer_id: string }>> {
    const { rows } = await tx.query<{ workspace_id: string; id: string; customer_id: string }>(
      'select workspace_id, id, customer_id from conversations where (workspace_id, id) in (select * from unnest($1::uuid[], $2::uuid[]))',
      [refs.map((r) => r.workspaceId), refs.map((r) => r.id)],
    );
    return rows;
  },

  /** The ids of a customer's conversations (index conversations_customer_idx). */
  async idsOfCustomer(tx: Queryable, ws: string, customerId: string): Promise<string[]> {
    const { rows } = await tx.query<{ id: string }>('select id from conversations where workspace_id = $1 and customer_id = $2', [ws, customerId]);
    return rows.map((r) => r.id);
  },

  async exists(tx: Queryable, ws: string, id: string): Promise<boolean> {
    const { rowCount } = await tx.query(named('exists', 'select 1 from conversations where workspace_id = $1 and id = $2', [ws, id]));
    return rowCount === 1;
  },

  async lock(tx: Queryable, ws: string, id: string): Promise<ConversationRow | undefined> {
    const { rows } = await tx.query<ConversationRow>('select * from conversations where workspace_id = $1 and id = $2 for update', [ws, id]);
    return rows[0];
  },

  async update(tx: Queryable, ws: string, id: string, set: Record<string, unknown>): Promise<void> {
    const columns = Object.keys(set);
    if (columns.length === 0) return;
    // Column names come from the service's fixed list, never from input.
    const assignments = columns.map((c, i) => `${c} = $${i + 3}`);
    await tx.query(`update conversations set ${assignments.join(', ')} where workspace_id = $1 and id = $2`, [ws, id, ...columns.map((c) => set[c])]);
  },

  /** The inbox list without a search (`f.q` is ignored: searches go through conversations.search.repository.ts). */
  async list(tx: Queryable, ws: string, f: ListFilter, sort: SortOrder, limit: number, after?: [string, string]): Promise<ConversationRow[]> {
    const params: unknown[] = [ws];
    const source = listSourceSql(f, sort, after, params, binder(params)(limit));
    const { order, sortKey } = listFilterSql({}, sort, undefined, []);
    const { rows } = await tx.query<ConversationRow>(`${SELECT_VIEW(sortKey, source)} order by ${order}`, params);
    return rows;
  },

  /** The inbox rows of these ids (search results), in list order. */
  async listByIds(tx: Queryable, ws: string, ids: string[], sort: SortOrder): Promise<ConversationRow[]> {
    if (ids.length === 0) return [];
    const { order, sortKey } = listFilterSql({}, sort, undefined, []);
    const { rows } = await tx.query<ConversationRow>(`${SELECT_VIEW(sortKey)} where c.workspace_id = $1 and c.id = any($2::uuid[]) order by ${order}`, [ws, ids]);
    return rows;
  },

  async findMessage(tx: Queryable, ws: string, id: string): Promise<MessageRow | undefined> {
    const { rows } = await tx.query<MessageRow>(named('find_message', `${SELECT_MESSAGE} where m.workspace_id = $1 and m.id = $2`, [ws, id]));
    return rows[0];
  },

  /**
   * The public messages (inbound, outbound) after `seenId` in thread order, not written by `author`,
   * oldest first, at most 20 (a reply's collision check); null when `seenId` is not a message of the conversation.
   */
  async publicMessagesAfter(tx: Queryable, ws: string, conversationId: string, seenId: string, author: { type: string; id: string | null }): Promise<MessageRow[] | null> {
    const seen = await tx.query<{ created_at: Date }>('select created_at from messages where workspace_id = $1 and conversation_id = $2 and id = $3', [ws, conversationId, seenId]);
    if (seen.rows.length === 0) return null;
    const { rows } = await tx.query<MessageRow>(
      `${SELECT_MESSAGE}
       where m.workspace_id = $1 and m.conversation_id = $2 and m.type <> 'note' and (m.created_at, m.id) > ($3::timestamptz, $4::uuid)
         and not (m.author_type = $5 and m.author_id is not distinct from $6::uuid)
       order by m.created_at, m.id limit 20`,
      [ws, conversationId, seen.rows[0].created_at, seenId, author.type, author.id],
    );
    return rows;
  },

  /** The thread; without internal notes for a `client` reader (in the query, so pages stay full). */
  async listMessages(tx: Queryable, ws: string, conversationId: string, opts: { limit: number; order: 'asc' | 'desc'; after?: [string, string]; visibility: Visibility }) {
    const params: unknown[] = [ws, conversationId, opts.limit];
    const notes = opts.visibility === 'internal' ? '' : "and m.type <> 'note'";
    let keyset = '';
    if (opts.after) {
      params.push(opts.after[0], opts.after[1]);
      keyset = `and (m.created_at, m.id) ${opts.order === 'asc' ? '>' : '<'} ($4::timestamptz, $5::uuid)`;
    }
    const { rows } = await tx.query<MessageRow & { sort_key: string }>(
      `${SELECT_MESSAGE.replace('from messages m', ', m.created_at::text as sort_key from messages m')}
       where m.workspace_id = $1 and m.conversation_id = $2 ${notes} ${keyset}
       order by m.created_at ${opts.order}, m.id ${opts.order} limit $3`,
      params,
    );
    return rows;
  },

  /** A customer's 50 most recently active conversations (the customer page). */
  async recentOfCustomer(tx: Queryable, ws: string, customerId: string, visibility: Visibility) {
    // A client viewer's order is by public activity too: a note must not reorder it.
    const order = visibility === 'internal' ? 'last_activity_at' : 'last_public_activity_at';
    const { rows } = await tx.query<{ id: string; number: string; inbox_id: string; subject: string | null; status: string; last_activity_at: Date; last_public_activity_at: Date }>(
      `select id, number, inbox_id, subject, status, last_activity_at, last_public_activity_at from conversations
       where workspace_id = $1 and customer_id = $2 order by ${order} desc, id desc limit 50`,
      [ws, customerId],
    );
    return rows;
  },

  /** Which of these customers have a conversation not yet resolved or closed (a probe of conversations_customer_idx each). */
  async customersWithOpenConversation(tx: Queryable, ws: string, customerIds: string[]): Promise<string[]> {
    const { rows } = await tx.query<{ id: string }>(
      `select x.id from unnest($2::uuid[]) as x(id)
       where exists (select 1 from conversations c where c.workspace_id = $1 and c.customer_id = x.id and c.status = any(array['open', 'pending', 'snoozed']))`,
      [ws, customerIds],
    );
    return rows.map((r) => r.id);
  },
};
