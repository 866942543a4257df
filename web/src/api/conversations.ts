import { useEffect } from 'react';
import { infiniteQueryOptions, queryOptions, useInfiniteQuery, useMutation, useQuery, useQueryClient, type InfiniteData } from '@tanstack/react-query';
import { ApiError, api, isMissingEndpoint } from './client.js';
import { keys } from './keys.js';
import type { BulkAction, BulkResult, Conversation, ConversationFilters, Counts, EventType, Message, Page, StatusFilter, TagCount, TimelineEvent } from './types.js';

const base = (ws: string) => `/workspaces/${ws}/conversations`;

/**
 * Whether copy `a` of a conversation is at least as new as copy `b`: by its revision, which every change
 * raises (0310). updatedAt cannot tell: a note changes the conversation (its count, its activity time)
 * without moving it, so a copy read before the note has the same updatedAt as one read after. Only a
 * copy without a revision (not an agent's) falls back to updatedAt.
 */
export function isAtLeastAsNew(a: Conversation, b: Conversation): boolean {
  return a.revision !== undefined && b.revision !== undefined ? a.revision >= b.revision : a.updatedAt >= b.updatedAt;
}

/** For setQueryData: an answer's copy, unless the cache already holds a newer one (a realtime frame that came first). */
export const keepNewer = (next: Conversation) => (cached: Conversation | undefined) => (cached && !isAtLeastAsNew(next, cached) ? cached : next);

export const conversationsQuery = (ws: string, filters: ConversationFilters) =>
  infiniteQueryOptions({
    queryKey: keys.conversations.list(ws, filters),
    queryFn: ({ pageParam, signal }) => api<Page<Conversation>>(base(ws), { query: { ...filters, limit: 50, cursor: pageParam ?? undefined }, signal }),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.nextCursor,
  });

/** GET /conversations: the inbox, cursor-paged for infinite scroll. */
export function useConversations(ws: string, filters: ConversationFilters, enabled = true) {
  return useInfiniteQuery({ ...conversationsQuery(ws, filters), placeholderData: (previous) => previous, enabled });
}

/** `status`: the views' status filter (the list header's Open, Pending, ...): every view counts that status. */
export const conversationCountsQuery = (ws: string, status: StatusFilter | null = null) =>
  queryOptions({
    queryKey: [...keys.conversations.counts(ws), status ?? 'default'] as const,
    queryFn: async ({ signal }) => {
      try {
        return await api<Counts>(`${base(ws)}/counts`, { query: status ? { status } : {}, signal });
      } catch (error) {
        if (isMissingEndpoint(error)) return null;
        throw error;
      }
    },
    staleTime: 10_000,
  });

/** GET /conversations/counts; null when the server has no counts endpoint. */
export function useConversationCounts(ws: string, status: StatusFilter | null = null) {
  return useQuery({ ...conversationCountsQuery(ws, status), placeholderData: (previous) => previous });
}

/** GET /tags: tags in use, most used first, with their open and pending counts (the tag views). */
export function useTags(ws: string) {
  return useQuery({
    queryKey: keys.tags(ws),
    queryFn: async ({ signal }) => (await api<{ items: TagCount[] }>(`/workspaces/${ws}/tags`, { signal })).items,
    staleTime: 30_000,
  });
}

/** GET /conversations/:id */
export function useConversation(ws: string, id: string | null) {
  return useQuery({
    queryKey: keys.conversations.detail(ws, id ?? ''),
    queryFn: ({ signal }) => api<Conversation>(`${base(ws)}/${id}`, { signal }),
    enabled: !!id,
  });
}

/** GET /conversations/:id/messages?order=desc: newest page first; older pages load on scroll up. */
export function useMessages(ws: string, id: string) {
  return useInfiniteQuery({
    queryKey: keys.conversations.messages(ws, id),
    queryFn: ({ pageParam, signal }) => api<Page<Message>>(`${base(ws)}/${id}/messages`, { query: { order: 'desc', limit: 50, cursor: pageParam ?? undefined }, signal }),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.nextCursor,
  });
}

/** Timeline events the thread shows as messages already: the server leaves them out. */
export const EVENTS_SHOWN_AS_MESSAGES: EventType[] = ['message.created', 'conversation.created'];

/**
 * GET /conversations/:id/events?exclude=message.created: the timeline, oldest first, every page.
 * Messages are left out by the server (a long thread would otherwise bury the changes after its first
 * page), and the remaining pages are read to the end: the thread interleaves all of them by time.
 */
export function useConversationEvents(ws: string, id: string) {
  const query = useInfiniteQuery({
    queryKey: keys.conversations.events(ws, id),
    queryFn: ({ pageParam, signal }) => api<Page<TimelineEvent>>(`${base(ws)}/${id}/events`, { query: { limit: 100, exclude: EVENTS_SHOWN_AS_MESSAGES, cursor: pageParam ?? undefined }, signal }),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.nextCursor,
  });
  const { hasNextPage, isFetchingNextPage, isError, fetchNextPage } = query;
  useEffect(() => {
    if (hasNextPage && !isFetchingNextPage && !isError) void fetchNextPage();
  }, [hasNextPage, isFetchingNextPage, isError, fetchNextPage]);
  return query;
}

export type ConversationPatch = Partial<Pick<Conversation, 'status' | 'snoozedUntil' | 'priority' | 'assigneeId' | 'teamId' | 'tags' | 'subject'>>;

/** PATCH /conversations/:id; refreshes the conversation, every inbox list and the counts. */
export function useUpdateConversation(ws: string, id: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (patch: ConversationPatch) => api<Conversation>(`${base(ws)}/${id}`, { method: 'PATCH', body: patch }),
    onSuccess: (conversation, patch) => {
      qc.setQueryData<Conversation>(keys.conversations.detail(ws, id), keepNewer(conversation));
      void qc.invalidateQueries({ queryKey: keys.conversations.lists(ws) });
      void qc.invalidateQueries({ queryKey: keys.conversations.counts(ws) });
      void qc.invalidateQueries({ queryKey: keys.conversations.events(ws, id) });
      if (patch.tags) void qc.invalidateQueries({ queryKey: keys.tags(ws) });
    },
  });
}

/** POST /conversations/:id/messages (reply or note); the new message shows at once. */
/**
 * The collision check a reply carries: the newest message the agent saw when they began writing. The
 * server answers 409 conversations.reply_collision with the newer public messages (see replyCollisionOf).
 */
export interface ReplyGuard {
  lastSeenMessageId?: string;
  sendAnyway?: boolean;
}

/** The messages someone else added while the agent wrote, when a send was refused for them; else null. */
export function replyCollisionOf(error: unknown): Message[] | null {
  if (!(error instanceof ApiError) || error.code !== 'conversations.reply_collision') return null;
  return Array.isArray(error.problem.messages) ? (error.problem.messages as Message[]) : [];
}

/** POST /conversations/:id/messages/:messageId/retry-delivery: "Retry now" on a failed reply (agents). */
export function useRetryDelivery(ws: string, conversationId: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (messageId: string) => api<{ messageId: string; status: 'queued' }>(`${base(ws)}/${conversationId}/messages/${messageId}/retry-delivery`, { method: 'POST', body: {} }),
    onSuccess: () => void qc.invalidateQueries({ queryKey: keys.conversations.messages(ws, conversationId) }),
  });
}

export function useSendMessage(ws: string, id: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (input: { type: 'reply' | 'note'; body: string } & ReplyGuard) => api<Message>(`${base(ws)}/${id}/messages`, { method: 'POST', body: input }),
    onSuccess: (message) => {
      qc.setQueryData<InfiniteData<Page<Message>, string | null>>(keys.conversations.messages(ws, id), (data) => {
        if (!data || data.pages.length === 0) return data;
        if (data.pages.some((p) => p.items.some((m) => m.id === message.id))) return data;
        const [first, ...rest] = data.pages;
        return { ...data, pages: [{ ...first, items: [message, ...first.items] }, ...rest] };
      });
      void qc.invalidateQueries({ queryKey: keys.conversations.detail(ws, id), exact: true });
      void qc.invalidateQueries({ queryKey: keys.conversations.lists(ws) });
      void qc.invalidateQueries({ queryKey: keys.conversations.counts(ws) });
    },
  });
}

/** POST /conversations/bulk: one action on the selected conversations; refreshes the lists, counts and tags. */
export function useBulkUpdate(ws: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (input: { ids: string[]; action: BulkAction; value?: string | null }) => api<BulkResult>(`${base(ws)}/bulk`, { method: 'POST', body: input }),
    onSuccess: (_result, input) => {
      void qc.invalidateQueries({ queryKey: keys.conversations.all(ws) });
      if (input.action === 'tag' || input.action === 'untag') void qc.invalidateQueries({ queryKey: keys.tags(ws) });
    },
  });
}
