import type { InfiniteData, QueryClient } from '@tanstack/react-query';
import { EVENTS_SHOWN_AS_MESSAGES, isAtLeastAsNew } from '../api/conversations.js';
import { keys } from '../api/keys.js';
import type { Conversation, ConversationFilters, Page } from '../api/types.js';
import type { RealtimeEvent } from './socket.js';

/** Counts (and tag counts) refresh at most this often per tab, however many events arrive. */
export const COUNTS_EVERY_MS = 5_000;

/** Events after which the sidebar's counts may differ (a note or a reply changes none of them). */
const COUNTED = new Set(['conversation.created', 'conversation.status_changed', 'conversation.assigned', 'conversation.team_changed', 'conversation.priority_changed', 'conversation.tags_changed']);

type ListData = InfiniteData<Page<Conversation>, string | null>;

const newer = isAtLeastAsNew;

/** Whether a conversation belongs in a list with these filters; undefined: cannot tell here (a search). */
export function belongsIn(filters: ConversationFilters, c: Conversation, me: string): boolean | undefined {
  if (filters.q) return undefined;
  if (filters.status?.length && !filters.status.includes(c.status)) return false;
  if (filters.assignee === 'me' ? c.assigneeId !== me : filters.assignee === 'none' ? c.assigneeId !== null : filters.assignee ? c.assigneeId !== filters.assignee : false) return false;
  if (filters.team === 'none' ? c.teamId !== null : filters.team ? c.teamId !== filters.team : false) return false;
  if (filters.priority && c.priority !== filters.priority) return false;
  if (filters.tag && !c.tags.includes(filters.tag.trim().toLowerCase())) return false;
  return true;
}

/** The list's order (conversations.repository.ts orderSql): negative when `a` comes first. */
export function compareIn(sort: ConversationFilters['sort'], a: Conversation, b: Conversation): number {
  if (sort === 'waiting_longest') {
    // Ascending waitingSince, never-waiting last ('infinity' on the server), then id ascending.
    const wa = a.waitingSince ?? '\uffff';
    const wb = b.waitingSince ?? '\uffff';
    if (wa !== wb) return wa < wb ? -1 : 1;
    return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  }
  if (a.lastActivityAt !== b.lastActivityAt) return a.lastActivityAt > b.lastActivityAt ? -1 : 1;
  return a.id > b.id ? -1 : a.id < b.id ? 1 : 0;
}

/**
 * Puts `c` where it belongs in one cached list (or takes it out), pages kept as loaded: removed from
 * wherever it was; inserted at its place in the order if that place is among the loaded rows (past the
 * last loaded row of a list with more pages, it is on a page not loaded yet: left out). Returns the
 * list unchanged when the cached copy is newer than `c`.
 */
export function placeIn(data: ListData, filters: ConversationFilters, c: Conversation, me: string): ListData {
  let stale = false;
  const pages = data.pages.map((p) => {
    const i = p.items.findIndex((x) => x.id === c.id);
    if (i < 0) return p;
    if (!newer(c, p.items[i])) stale = true;
    return { ...p, items: p.items.filter((x) => x.id !== c.id) };
  });
  if (stale) return data;
  if (belongsIn(filters, c, me)) {
    const last = pages.length - 1;
    let placed = false;
    for (let pi = 0; pi <= last && !placed; pi++) {
      const items = pages[pi].items;
      const at = items.findIndex((x) => compareIn(filters.sort, c, x) < 0);
      if (at >= 0 || (pi === last && !pages[pi].nextCursor)) {
        const pos = at >= 0 ? at : items.length;
        pages[pi] = { ...pages[pi], items: [...items.slice(0, pos), c, ...items.slice(pos)] };
        placed = true;
      }
    }
  }
  return { ...data, pages };
}

/**
 * How the app applies realtime events (issue 14), a batch at a time (the provider collects 100 ms):
 *
 * - An agent's event frame carries its conversation as the API shows it: the cached detail and every
 *   cached inbox list are patched from it (moved, added, taken out), no request. Without it (a client
 *   viewer's socket, or the server could not read it) the lists are invalidated, once per batch.
 * - Searches cannot be judged here: a list with `q` is invalidated, once per batch.
 * - The thread refreshes only on a message event of its conversation, the timeline only on events it
 *   shows; React Query refetches only what is on screen.
 * - Counts and tag counts: at most once per COUNTS_EVERY_MS, and only after events that change them.
 */
export class EventApplier {
  private lastCounts = Number.NEGATIVE_INFINITY;
  private countsTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly qc: QueryClient,
    private readonly ws: string,
    private readonly me: string,
    private readonly now: () => number = () => performance.now(),
  ) {}

  apply(batch: Array<{ event: RealtimeEvent; conversation?: Conversation }>): void {
    const { qc, ws } = this;
    const snapshots = new Map<string, Conversation>();
    let listsStale = false;
    let counts = false;
    let tags = false;
    let macros = false;
    let inboxes = false;
    let savedViews = false;
    let notifications = false;
    let customers = false;
    const timelines = new Set<string>();
    const threads = new Set<string>();
    const details = new Set<string>();
    for (const { event, conversation } of batch) {
      const id = event.conversationId;
      if (COUNTED.has(event.type)) counts = true;
      if (event.type === 'conversation.tags_changed' || event.type === 'conversation.created') tags = true;
      if (event.type.startsWith('macro.')) macros = true;
      // Another admin renamed, changed, disabled or deleted an inbox: its list and settings page refresh.
      if (event.type.startsWith('inbox.')) inboxes = true;
      if (event.type.startsWith('saved_view.')) savedViews = true;
      // Mine only: the server sends notification events to their one recipient.
      if (event.type.startsWith('notification.')) notifications = true;
      if (event.type.startsWith('customer.')) {
        listsStale = true; // a name in the rows; rare
        customers = true; // the customer list and open profiles (another agent edited an identity or the notes)
      }
      if (!id) continue;
      if (conversation && conversation.id === id) {
        const had = snapshots.get(id);
        if (!had || newer(conversation, had)) snapshots.set(id, conversation);
      } else {
        listsStale = true;
        details.add(id);
      }
      if (event.type.startsWith('message.')) threads.add(id);
      if (!(EVENTS_SHOWN_AS_MESSAGES as string[]).includes(event.type)) timelines.add(id);
    }

    for (const c of snapshots.values()) {
      qc.setQueryData<Conversation>(keys.conversations.detail(ws, c.id), (old) => (old && newer(c, old) ? c : old));
    }
    for (const query of qc.getQueryCache().findAll({ queryKey: keys.conversations.lists(ws) })) {
      const filters = (query.queryKey[4] ?? {}) as ConversationFilters;
      // A search, or an event without its conversation: refetched (this list only, once per batch).
      if (filters.q ? snapshots.size > 0 || listsStale : listsStale) {
        void qc.invalidateQueries({ queryKey: query.queryKey, exact: true });
        continue;
      }
      if (filters.q || snapshots.size === 0) continue;
      const data = query.state.data as ListData | undefined;
      if (!data?.pages) continue;
      let next = data;
      for (const c of snapshots.values()) next = placeIn(next, filters, c, this.me);
      if (next !== data) qc.setQueryData(query.queryKey, next);
    }
    for (const id of details) void qc.invalidateQueries({ queryKey: keys.conversations.detail(ws, id), exact: true });
    for (const id of threads) void qc.invalidateQueries({ queryKey: keys.conversations.messages(ws, id) });
    for (const id of timelines) void qc.invalidateQueries({ queryKey: keys.conversations.events(ws, id) });
    if (macros) void qc.invalidateQueries({ queryKey: keys.macros(ws) });
    if (inboxes) void qc.invalidateQueries({ queryKey: keys.inboxes(ws) });
    if (savedViews) void qc.invalidateQueries({ queryKey: keys.savedViews(ws) });
    if (notifications) {
      void qc.invalidateQueries({ queryKey: keys.notifications.count(ws) });
      void qc.invalidateQueries({ queryKey: keys.notifications.list(ws) });
    }
    if (customers) void qc.invalidateQueries({ queryKey: keys.customers.all(ws) });
    if (counts || tags) this.refreshCounts(tags);
  }

  private pendingTags = false;

  /** Leading edge at once, then at most one more per window, carrying what the window collected. */
  private refreshCounts(tags: boolean): void {
    this.pendingTags ||= tags;
    if (this.countsTimer) return;
    const wait = this.lastCounts + COUNTS_EVERY_MS - this.now();
    const run = () => {
      this.countsTimer = null;
      this.lastCounts = this.now();
      void this.qc.invalidateQueries({ queryKey: keys.conversations.counts(this.ws) });
      if (this.pendingTags) void this.qc.invalidateQueries({ queryKey: keys.tags(this.ws) });
      this.pendingTags = false;
    };
    if (wait <= 0) run();
    else this.countsTimer = setTimeout(run, wait);
  }

  stop(): void {
    if (this.countsTimer) clearTimeout(this.countsTimer);
    this.countsTimer = null;
  }
}
