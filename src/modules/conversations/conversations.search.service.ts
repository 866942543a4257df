import type { Queryable } from '../../db/pool.js';
import type { ListFilter, SortOrder } from './conversations.repository.js';
import { conversationSearchRepository as search, type SearchWords } from './conversations.search.repository.js';

/**
 * How much one search request may read (issue #8, M7: a miss used to read the whole workspace).
 * WINDOW: conversations of the list walked first, newest first (a common word fills the page there).
 * DOCUMENTS: search documents read from the GIN index when the window did not fill the page.
 * FALLBACK_WINDOW: conversations walked when the words are in more than DOCUMENTS documents but not
 * in the newest WINDOW conversations; the page may then come back short with a cursor to go on.
 */
export const SEARCH_BOUNDS = { window: 200, documents: 5_000, fallbackWindow: 5_000 };

export function searchWords(q: string, opts: { notes: boolean } = { notes: true }): SearchWords {
  const number = /^#?(\d{1,15})$/.exec(q);
  return { q, number: number ? Number(number[1]) : null, notes: opts.notes };
}

/**
 * One page of the list's conversations that match the words, in list order, each step bounded:
 * 1. the newest WINDOW conversations of the list (its filters and cursor), checked row by row
 *    (skipped for an email or a #number);
 * 2. else the conversations of at most DOCUMENTS matching documents plus the identity's and the
 *    #number's conversations, sorted (exact when fewer than DOCUMENTS documents match);
 * 3. else a longer walk (the words are common but not recent), which may end the page early.
 * Returns the ids in order and, for a page cut short by step 3, where the walk stopped.
 */
export async function searchPage(
  tx: Queryable,
  ws: string,
  f: ListFilter,
  sort: SortOrder,
  after: [string, string] | undefined,
  words: SearchWords,
  limit: number,
  bounds = SEARCH_BOUNDS,
): Promise<{ ids: string[]; resumeAt: [string, string] | null }> {
  // An email or a #number names a few conversations, rarely among the newest: straight to the indexes.
  if (words.number === null && !words.q.includes('@')) {
    const recent = await search.window(tx, ws, f, sort, after, words, limit, bounds.window);
    if (recent.ids.length === limit || recent.walked < bounds.window) return { ids: recent.ids, resumeAt: null };
  }
  const docs = await search.documents(tx, ws, words.q, bounds.documents);
  if (docs.complete) return { ids: await search.candidates(tx, ws, f, sort, after, words, docs.ids, limit), resumeAt: null };
  const longer = await search.window(tx, ws, f, sort, after, words, limit, bounds.fallbackWindow);
  const cutShort = longer.ids.length < limit && longer.walked === bounds.fallbackWindow;
  return { ids: longer.ids, resumeAt: cutShort ? longer.last : null };
}
