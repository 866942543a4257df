import { QueryClient, QueryObserver, type InfiniteData } from '@tanstack/react-query';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { keepNewer } from '../web/src/api/conversations.js';
import { keys } from '../web/src/api/keys.js';
import type { Conversation, ConversationFilters, Page } from '../web/src/api/types.js';
import { COUNTS_EVERY_MS, EventApplier } from '../web/src/realtime/apply.js';
import type { RealtimeEvent } from '../web/src/realtime/socket.js';

/** How the agent app applies realtime events (issue 14): patches from the frame, no refetch storm. */
const WS = 'ws1';
const ME = 'me';
let seq = 0;

function conversation(id: string, minute: number, over: Partial<Conversation> = {}): Conversation {
  const at = new Date(Date.UTC(2026, 0, 1, 0, minute)).toISOString();
  return {
    id,
    number: 1,
    inboxId: 'i',
    channel: 'api',
    customer: { id: 'cu', name: 'C', email: null, phone: null },
    subject: null,
    status: 'open',
    snoozedUntil: null,
    priority: 'normal',
    assigneeId: null,
    teamId: null,
    tags: [],
    createdAt: at,
    updatedAt: at,
    lastActivityAt: at,
    waitingSince: at,
    firstResponseAt: null,
    resolvedAt: null,
    lastMessage: null,
    messageCount: 1,
    revision: 0,
    ...over,
  } as Conversation;
}

const event = (type: string, conversationId: string | null, data: Record<string, unknown> = {}): RealtimeEvent =>
  ({ id: String(++seq), type, conversationId, actor: { type: 'user', id: 'u' }, data, createdAt: new Date().toISOString() }) as unknown as RealtimeEvent;

type ListData = InfiniteData<Page<Conversation>, string | null>;

/** A query client with cached lists, counts, a detail; every fetch is counted by key. */
function setup(lists: Array<{ filters: ConversationFilters; pages: Page<Conversation>[] }>) {
  const fetches: string[] = [];
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false, staleTime: Number.POSITIVE_INFINITY } } });
  const observers: Array<() => void> = [];
  const watch = (queryKey: readonly unknown[], data: unknown) => {
    qc.setQueryData(queryKey, data);
    // An observer makes the query active (on screen), so an invalidation would refetch it.
    const o = new QueryObserver(qc, {
      queryKey,
      queryFn: async () => {
        fetches.push(JSON.stringify(queryKey));
        return qc.getQueryData(queryKey) ?? null;
      },
    });
    observers.push(o.subscribe(() => {}));
  };
  for (const l of lists) watch(keys.conversations.list(WS, l.filters), { pages: l.pages, pageParams: l.pages.map((_, i) => (i === 0 ? null : `c${i}`)) });
  watch(keys.conversations.counts(WS), { open: 1 });
  watch(keys.tags(WS), []);
  let now = 0;
  const applier = new EventApplier(qc, WS, ME, () => now);
  return {
    qc,
    fetches,
    applier,
    advance: (ms: number) => {
      now += ms;
    },
    ids: (filters: ConversationFilters) => (qc.getQueryData<ListData>(keys.conversations.list(WS, filters))?.pages ?? []).map((p) => p.items.map((c) => c.id)),
    done: () => {
      applier.stop();
      for (const u of observers) u();
      qc.clear();
    },
  };
}

const settle = () => new Promise((r) => setTimeout(r, 0));
let cleanup: (() => void) | null = null;
afterEach(() => {
  cleanup?.();
  cleanup = null;
});

describe('applying realtime events in the agent app', () => {
  it('moves a conversation with a new message to the top of the lists it is in, from the frame, with no request', async () => {
    const a = conversation('a', 3);
    const b = conversation('b', 2);
    const c = conversation('c', 1);
    const open: ConversationFilters = { status: ['open'] };
    const mine: ConversationFilters = { status: ['open'], assignee: 'me' };
    const t = setup([
      {
        filters: open,
        pages: [
          { items: [a, b], nextCursor: 'c1' },
          { items: [c], nextCursor: null },
        ],
      },
      { filters: mine, pages: [{ items: [], nextCursor: null }] },
    ]);
    cleanup = t.done;
    t.qc.setQueryData(keys.conversations.detail(WS, 'c'), c);
    const later = conversation('c', 9, { lastMessage: { type: 'note', preview: 'hi', author: { type: 'user', id: null, name: null } }, messageCount: 2 });
    t.applier.apply([{ event: event('message.created', 'c', { messageId: 'm', messageType: 'note' }), conversation: later }]);
    await settle();
    expect(t.ids(open)).toEqual([['c', 'a', 'b'], []]);
    expect(t.ids(mine)).toEqual([[]]); // not assigned to me: not added
    expect(t.qc.getQueryData<Conversation>(keys.conversations.detail(WS, 'c'))?.messageCount).toBe(2);
    // A note changes no count: nothing was fetched at all.
    expect(t.fetches).toEqual([]);
  });

  it('takes a resolved conversation out of the open list, adds it where it now belongs, and ignores an older copy', async () => {
    const a = conversation('a', 3);
    const b = conversation('b', 2);
    const open: ConversationFilters = { status: ['open'] };
    const resolved: ConversationFilters = { status: ['resolved'] };
    const t = setup([
      { filters: open, pages: [{ items: [a, b], nextCursor: null }] },
      { filters: resolved, pages: [{ items: [conversation('z', 1, { status: 'resolved' })], nextCursor: null }] },
    ]);
    cleanup = t.done;
    const done = conversation('a', 3, { status: 'resolved', updatedAt: new Date(Date.UTC(2026, 0, 1, 1)).toISOString(), revision: 1 });
    t.applier.apply([{ event: event('conversation.status_changed', 'a', { from: 'open', to: 'resolved' }), conversation: done }]);
    expect(t.ids(open)).toEqual([['b']]);
    expect(t.ids(resolved)).toEqual([['a', 'z']]);
    // A frame read before the last change must not undo it.
    t.applier.apply([{ event: event('conversation.status_changed', 'a', { from: 'resolved', to: 'open' }), conversation: a }]);
    expect(t.ids(resolved)).toEqual([['a', 'z']]);
  });

  it('keeps the copy with the higher revision, though a note leaves updatedAt as it was', async () => {
    const open: ConversationFilters = { status: ['open'] };
    const before = conversation('c', 1, { revision: 4, messageCount: 2 });
    const t = setup([{ filters: open, pages: [{ items: [conversation('a', 3), before], nextCursor: null }] }]);
    cleanup = t.done;
    t.qc.setQueryData(keys.conversations.detail(WS, 'c'), before);
    // A note: the agent's count and activity time move, updatedAt does not; the revision does.
    const noted = { ...before, revision: 5, messageCount: 3, lastActivityAt: new Date(Date.UTC(2026, 0, 1, 0, 9)).toISOString() };
    expect(noted.updatedAt).toBe(before.updatedAt);
    t.applier.apply([{ event: event('message.created', 'c', { messageId: 'n', messageType: 'note' }), conversation: noted }]);
    const detail = () => t.qc.getQueryData<Conversation>(keys.conversations.detail(WS, 'c'));
    const listed = () => t.qc.getQueryData<ListData>(keys.conversations.list(WS, open))?.pages[0].items.find((x) => x.id === 'c');
    expect([detail()?.messageCount, listed()?.messageCount]).toEqual([3, 3]);
    expect(t.ids(open)).toEqual([['c', 'a']]);
    // A frame read before the note (same updatedAt, lower revision), late or in one batch with a newer one, changes nothing.
    t.applier.apply([{ event: event('conversation.priority_changed', 'c', { from: 'low', to: 'normal' }), conversation: before }]);
    t.applier.apply([
      { event: event('message.created', 'c', { messageId: 'n', messageType: 'note' }), conversation: noted },
      { event: event('conversation.priority_changed', 'c', { from: 'low', to: 'normal' }), conversation: before },
    ]);
    expect([detail()?.revision, listed()?.revision, detail()?.messageCount, listed()?.messageCount]).toEqual([5, 5, 3, 3]);
    expect(t.ids(open)).toEqual([['c', 'a']]);
    await settle();
    expect(t.fetches.filter((f) => f.includes('"list"') || f.includes('detail'))).toEqual([]);
  });

  it("keeps a newer copy a frame brought when the answer to the agent's own change comes after it", () => {
    const qc = new QueryClient();
    const key = keys.conversations.detail(WS, 'c');
    qc.setQueryData(key, conversation('c', 1, { revision: 6, priority: 'high' }));
    // The PATCH answered revision 5; another agent's change (6) reached this tab first.
    qc.setQueryData<Conversation>(key, keepNewer(conversation('c', 1, { revision: 5, priority: 'low' })));
    expect(qc.getQueryData<Conversation>(key)).toMatchObject({ revision: 6, priority: 'high' });
    qc.setQueryData<Conversation>(key, keepNewer(conversation('c', 1, { revision: 7, priority: 'urgent' })));
    expect(qc.getQueryData<Conversation>(key)).toMatchObject({ revision: 7, priority: 'urgent' });
    qc.clear();
  });

  it('refreshes counts at once, then at most once per window however many events come', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const t = setup([]);
    cleanup = () => {
      t.done();
      vi.useRealTimers();
    };
    const tick = (ms: number) => {
      t.advance(ms);
      return vi.advanceTimersByTimeAsync(ms);
    };
    const counts = JSON.stringify(keys.conversations.counts(WS));
    const countFetches = () => t.fetches.filter((f) => f === counts).length;
    t.applier.apply([{ event: event('conversation.assigned', 'a', { from: null, to: ME }) }]);
    await tick(1);
    expect(countFetches()).toBe(1);
    for (let i = 0; i < 20; i++) {
      t.applier.apply([{ event: event('conversation.priority_changed', 'a', { from: 'low', to: 'high' }) }]);
      await tick(100);
    }
    expect(countFetches()).toBe(1);
    // The window's end brings one refresh for all twenty.
    await tick(COUNTS_EVERY_MS);
    expect(countFetches()).toBe(2);
    await tick(COUNTS_EVERY_MS * 3);
    expect(countFetches()).toBe(2);
  });

  it('refetches a list once per batch when the frames carry no conversation (a client viewer), and a search list always', async () => {
    const open: ConversationFilters = { status: ['open'] };
    const search: ConversationFilters = { q: 'refund' };
    const t = setup([
      { filters: open, pages: [{ items: [conversation('a', 1)], nextCursor: null }] },
      { filters: search, pages: [{ items: [], nextCursor: null }] },
    ]);
    cleanup = t.done;
    t.applier.apply([
      { event: event('message.created', 'a', { messageId: 'm1', messageType: 'inbound' }) },
      { event: event('message.created', 'a', { messageId: 'm2', messageType: 'inbound' }) },
      { event: event('message.created', 'b', { messageId: 'm3', messageType: 'inbound' }) },
    ]);
    await settle();
    expect(t.fetches.sort()).toEqual([JSON.stringify(keys.conversations.list(WS, open)), JSON.stringify(keys.conversations.list(WS, search))].sort());
  });
});
