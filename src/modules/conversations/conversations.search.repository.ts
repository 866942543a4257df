import type { Queryable } from '../../db/pool.js';
import { listFilterSql, listSourceSql, type ListFilter, type SortOrder } from './conversations.repository.js';

/**
 * The SQL of conversation search (issue #8, M7). A conversation matches when the words are in its
 * subject or one of its messages, the text is one of its customer's identities (email, phone,
 * external id), or it is the conversation's #number. Every statement reads a bounded number of rows
 * whatever the words; the service (conversations.search.service.ts) chains them.
 *
 * Row-level security keeps the full-text operator `@@` out of index conditions on conversations and
 * messages (it is not LEAKPROOF), so those tables are only *walked* (in list order, LIMIT-bounded)
 * with `@@` as a per-row check, and the words are *looked up* in search_documents, whose SELECT
 * policy is the search itself (migration 0020_search.sql).
 */
export interface SearchWords {
  /** The text as typed (trimmed): words for plainto_tsquery, or an identity value. */
  q: string;
  /** The #number (or bare number) the text names, if it is one. */
  number: number | null;
  /** Whether internal notes may match (false for a client viewer: a note's words must not find its conversation). */
  notes: boolean;
  /**
   * Customers found for the text by the customers module (a name's prefix, a phone in any notation):
   * their conversations match too (the global search passes the customers it shows).
   */
  customerIds?: string[];
}

/**
 * Whether one of conversation `c`'s messages holds the words: its messages by the (workspace_id,
 * conversation_id) index, checked one by one. A scalar subquery, not EXISTS: PostgreSQL may run an
 * EXISTS under OR as a "hashed subplan", which reads every message of the workspace once.
 */
const inMessages = (words: SearchWords) => `coalesce((select true from messages m
    where m.workspace_id = c.workspace_id and m.conversation_id = c.id and m.search @@ query.tsq
    ${words.notes ? '' : "and m.type <> 'note'"} limit 1), false)`;

/** What the text matches on conversation `c`; `tsq` and `who` come from the CTEs of MATCH_CTES. */
function matchSql(words: SearchWords, p: (v: unknown) => string): string {
  return `(c.subject_search @@ query.tsq
    or ${inMessages(words)}
    or c.customer_id = any(who.ids)
    ${words.number === null ? '' : `or c.number = ${p(words.number)}`})`;
}

/** The words as a tsquery (null without words: no "query contains no lexemes" notice per row), and the customers whose identity is the text (the unique identity index, three probes). */
const MATCH_CTES = (q: string, customers: string) => `
  query as (select nullif(plainto_tsquery('simple', ${q})::text, '')::tsquery as tsq),
  who as (select coalesce(array_agg(ci.customer_id), '{}') || ${customers}::uuid[] as ids from customer_identities ci
          where ci.workspace_id = $1 and ci.kind = any(array['email', 'phone', 'external_id']) and ci.value = lower(${q}))`;

function builder(ws: string) {
  const params: unknown[] = [ws];
  const p = (v: unknown) => {
    params.push(v);
    return `$${params.length}`;
  };
  return { params, p };
}

export const conversationSearchRepository = {
  /**
   * Walks at most `window` conversations of the list (its filters, order and cursor), newest first,
   * and returns the first `limit` that match: then they are exactly the list's first `limit` matches.
   * The walk stops as soon as `limit` match (the window's order is the outer order: no sort). When
   * fewer match, also how many conversations the window held and the cursor key of its last one.
   */
  async window(tx: Queryable, ws: string, f: ListFilter, sort: SortOrder, after: [string, string] | undefined, words: SearchWords, limit: number, window: number) {
    const { params, p } = builder(ws);
    const { order, sortKey } = listFilterSql({}, sort, undefined, []);
    // The list's own ordered walk (its indexes, one per status), stopped after `window` rows.
    const win = (columns: string) => `(select ${columns} from ${listSourceSql(f, sort, after, params, p(window))}) c`;
    const q = p(words.q);
    const match = matchSql(words, p);
    const { rows } = await tx.query<{ id: string }>(
      `with ${MATCH_CTES(q, p(words.customerIds ?? []))}
       select c.id from ${win('c.workspace_id, c.id, c.customer_id, c.number, c.subject_search, c.last_activity_at, c.last_public_activity_at, c.waiting_since')}, query, who
       where ${match} order by ${order} limit ${p(limit)}`,
      params,
    );
    const ids = rows.map((r) => r.id);
    if (ids.length === limit) return { ids, walked: window, last: null };
    // Fewer matches than a page: the window's size and end (an index walk of at most `window` entries).
    const reversed = order.replace(/\b(asc|desc)\b/g, (d) => (d === 'asc' ? 'desc' : 'asc')).replace('nulls last', 'nulls first');
    const b = builder(ws);
    const { rows: ends } = await tx.query<{ walked: number; key: string | null; id: string | null }>(
      `select count(*)::int as walked, (array_agg(c.sort_key order by ${reversed}))[1] as key, (array_agg(c.id order by ${reversed}))[1]::text as id
       from (select c.id, c.last_activity_at, c.last_public_activity_at, c.waiting_since, ${sortKey} as sort_key from ${listSourceSql(f, sort, after, b.params, b.p(window))}) c`,
      b.params,
    );
    const end = ends[0];
    return { ids, walked: end.walked, last: end.id ? ([end.key ?? '', end.id] as [string, string]) : null };
  },

  /**
   * The conversations whose subject or messages hold the words, from search_documents' GIN index,
   * at most `cap` documents read. `complete` says whether that was all of them.
   */
  async documents(tx: Queryable, ws: string, q: string, cap: number): Promise<{ ids: string[]; complete: boolean }> {
    // The policy reads the query from app.search_query, for this transaction only. A sequential scan
    // is never the bounded plan here (a word common in another workspace would make it look cheap).
    await tx.query("select set_config('app.search_query', plainto_tsquery('simple', $1)::text, true), set_config('enable_seqscan', 'off', true)", [q]);
    try {
      const { rows } = await tx.query<{ conversation_id: string }>('select conversation_id from search_documents where workspace_id = $1 limit $2', [ws, cap]);
      return { ids: [...new Set(rows.map((r) => r.conversation_id))], complete: rows.length < cap };
    } finally {
      await tx.query("select set_config('app.search_query', '', true), set_config('enable_seqscan', 'on', true)");
    }
  },

  /**
   * The list's first `limit` matches among `candidates` (rechecked: a renamed subject leaves its old
   * document behind) and among the conversations of the identity or #number the text names.
   */
  async candidates(tx: Queryable, ws: string, f: ListFilter, sort: SortOrder, after: [string, string] | undefined, words: SearchWords, candidates: string[], limit: number): Promise<string[]> {
    const { params, p } = builder(ws);
    const { where, order } = listFilterSql(f, sort, after, params);
    const q = p(words.q);
    const ids = p(candidates);
    const l = p(limit);
    const { rows } = await tx.query<{ id: string }>(
      `with ${MATCH_CTES(q, p(words.customerIds ?? []))}
       select c.id from (
         (select c.id, c.last_activity_at, c.last_public_activity_at, c.waiting_since from conversations c, query
          where ${where.join(' and ')} and c.id = any(${ids}::uuid[])
            and (c.subject_search @@ query.tsq
                 or ${inMessages(words)})
          order by ${order} limit ${l})
         union
         (select c.id, c.last_activity_at, c.last_public_activity_at, c.waiting_since from conversations c, who
          where ${where.join(' and ')} and (c.customer_id = any(who.ids) ${words.number === null ? '' : `or c.number = ${p(words.number)}`})
          order by ${order} limit ${l})
       ) c order by ${order} limit ${l}`,
      params,
    );
    return rows.map((r) => r.id);
  },

  /**
   * Why each of these conversations matched, for the global search's rows: its #number, its customer,
   * a message (the newest that holds the words, with an excerpt around them: never a note's for a
   * client viewer) or its subject. One statement for a page; each message probe walks one
   * conversation's messages by its index, like the match check itself.
   */
  async matches(
    tx: Queryable,
    ws: string,
    ids: string[],
    words: SearchWords,
  ): Promise<{ id: string; kind: 'number' | 'customer' | 'message' | 'subject' | null; message_id: string | null; snippet: string | null }[]> {
    if (ids.length === 0) return [];
    const { params, p } = builder(ws);
    const q = p(words.q);
    const { rows } = await tx.query(
      `with ${MATCH_CTES(q, p(words.customerIds ?? []))}
       select c.id,
         case when ${words.number === null ? 'false' : `c.number = ${p(words.number)}`} then 'number'
              when c.customer_id = any(who.ids) then 'customer'
              when m.id is not null then 'message'
              when c.subject_search @@ query.tsq then 'subject' end as kind,
         m.id as message_id,
         case when m.id is not null then ts_headline('simple', m.body, query.tsq, 'MaxFragments=1, MaxWords=24, MinWords=8, StartSel="", StopSel="", FragmentDelimiter=" … "') end as snippet
       from conversations c cross join query cross join who
       left join lateral (select m.id, left(m.body_text, 20000) as body from messages m
                          where m.workspace_id = c.workspace_id and m.conversation_id = c.id and m.search @@ query.tsq
                          ${words.notes ? '' : "and m.type <> 'note'"}
                          order by m.created_at desc, m.id desc limit 1) m on true
       where c.workspace_id = $1 and c.id = any(${p(ids)}::uuid[])`,
      params,
    );
    return rows;
  },

  /** The search documents of a new message or subject (none for text without words). */
  async addDocument(tx: Queryable, ws: string, doc: { conversationId: string; messageId: string | null; text: string }): Promise<void> {
    await tx.query({
      name: 'conversations.search.add_document',
      text: `insert into search_documents (workspace_id, conversation_id, message_id, search)
             select $1, $2, $3, v from (select to_tsvector('simple', left($4::text, 200000)) as v) d where v <> ''::tsvector`,
      values: [ws, doc.conversationId, doc.messageId, doc.text],
    });
  },
};
