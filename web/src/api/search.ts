import { useInfiniteQuery } from '@tanstack/react-query';
import type { SearchResults } from '../../../src/modules/search/search.schemas.js';
import type { Status } from './types.js';
import { api } from './client.js';
import { keys } from './keys.js';

export type { SearchResults };
export type SearchConversation = SearchResults['conversations']['items'][number];
export type SearchCustomer = SearchResults['customers']['items'][number];

/** The global search's words and filters, as GET /search takes them (dates as ISO times). */
export interface SearchParams {
  q: string;
  status?: Status[];
  inboxId?: string;
  teamId?: string;
  assigneeId?: string;
  tag?: string;
  from?: string;
  to?: string;
}

/**
 * GET /search: customers and conversations for the words, the conversations cursor-paged. A page
 * reads a bounded stretch, so it may be short (even empty) and still have more: the screen follows
 * the cursor. Each page carries the same customers; the screen shows the first page's.
 */
export function useSearch(ws: string, params: SearchParams) {
  return useInfiniteQuery({
    queryKey: keys.search(ws, params),
    queryFn: ({ pageParam, signal }) => api<SearchResults>(`/workspaces/${ws}/search`, { query: { ...params, limit: 25, cursor: pageParam ?? undefined }, signal }),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.conversations.nextCursor,
    enabled: params.q.trim().length > 0,
    staleTime: 10_000,
    // A failed search (a 429 says when to try again) is shown, not retried behind the agent's back.
    retry: false,
  });
}
