import { inWorkspaceTx } from '../../db/tenancy.js';
import type { Visibility } from '../auth/roles.js';
import { inTx, principalOf, type WorkspaceContext } from '../context.js';
import type { SearchLimiter } from '../conversations/conversations.search.limiter.js';
import { SEARCH_NEXT_PAGE_COST, searchConversations } from '../conversations/conversations.service.js';
import { searchCustomers } from '../customers/customers.service.js';
import { searchErrors } from './search.errors.js';
import type { SearchQuery, SearchResults } from './search.schemas.js';

/** Customers shown beside the conversations: a search names a few people, not a directory. */
export const CUSTOMERS_SHOWN = 10;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DAY = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * One search for everything (issue #10): the customers the text names and the conversations it finds
 * in every status, through the owners' own bounded searches (customers' name prefix and identities;
 * conversations' search documents and windows), in one transaction and paced once per request like
 * a list search. The conversations of the customers shown match too, so a name finds its
 * conversations although no message holds it.
 */
export async function search(deps: WorkspaceContext & { userId: string | null; searchLimiter: SearchLimiter }, query: SearchQuery, visibility: Visibility): Promise<SearchResults> {
  const q = query.q.trim();
  if (!q) throw searchErrors.invalidFilter('Type something to search for.', { errors: [{ path: 'querystring.q', message: 'Type something to search for.' }] });
  const from = query.from === undefined ? undefined : dateOf(query.from, 'from');
  const to = query.to === undefined ? undefined : dateOf(query.to, 'to');
  if (from && to && from >= to)
    throw searchErrors.invalidRange('The "from" date must come before the "to" date.', { errors: [{ path: 'querystring.to', message: 'must come after the "from" date' }] });
  const inbox = query.inboxId === undefined ? undefined : idOf(query.inboxId, 'inboxId', 'an inbox', []);
  const team = query.teamId === undefined ? undefined : idOf(query.teamId, 'teamId', 'a team', ['none']);
  const assignee = query.assigneeId === undefined ? undefined : idOf(query.assigneeId, 'assigneeId', 'an agent', ['none', 'me']);
  deps.searchLimiter.take(principalOf(deps.actor), query.cursor ? SEARCH_NEXT_PAGE_COST : 1);
  return inWorkspaceTx(deps, async (tx) => {
    const ctx = inTx(deps, tx);
    const customers = await searchCustomers(ctx, q, CUSTOMERS_SHOWN);
    const conversations = await searchConversations(
      ctx,
      {
        q,
        status: query.status,
        inbox,
        team,
        assignee,
        tag: query.tag,
        from,
        to,
        cursor: query.cursor,
        limit: query.limit ?? 25,
        customerIds: customers.map((c) => c.id),
      },
      visibility,
    );
    return { conversations, customers: { items: customers } };
  });
}

/** A day (the whole UTC day: `to` ends after it) or a date-time with its zone. */
function dateOf(text: string, field: 'from' | 'to'): Date {
  const day = DAY.test(text);
  const at = day || DATE_TIME.test(text) ? new Date(day ? `${text}T00:00:00Z` : text) : null;
  if (!at || Number.isNaN(at.getTime()) || (day && at.toISOString().slice(0, 10) !== text)) {
    const message = `The "${field}" date should be a date like 2026-12-01.`;
    throw searchErrors.invalidDate(message, { errors: [{ path: `querystring.${field}`, message }] });
  }
  return day && field === 'to' ? new Date(at.getTime() + 86_400_000) : at;
}

/** An id (or one of the words the filter also takes); anything else is named, in people's words. */
function idOf(text: string, field: string, what: string, words: string[]): string {
  if (words.includes(text)) return text;
  if (UUID.test(text)) return text.toLowerCase();
  const also = words.length ? ` (or ${words.map((w) => `"${w}"`).join(', ')})` : '';
  const message = `The ${field.replace(/Id$/, '')} filter should be ${what}'s id${also}, not "${text.slice(0, 40)}".`;
  throw searchErrors.invalidFilter(message, { errors: [{ path: `querystring.${field}`, message }] });
}
