import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useLayoutEffect, useMemo, useRef } from 'react';
import { useConversationEvents, useMessages } from '../../api/conversations.js';
import type { EventType, Member, Message, TimelineEvent } from '../../api/types.js';
import { useTeams, useUsers } from '../../api/workspace.js';
import { Avatar } from '../../components/Avatar.js';
import { Empty, ErrorState, Loading } from '../../components/States.js';
import { dateTime } from '../../lib/format.js';
import { useWorkspace } from '../../lib/workspace.js';
import { MessageBody } from './MessageBody.js';

type Item = { kind: 'message'; at: string; key: string; message: Message } | { kind: 'event'; at: string; key: string; event: TimelineEvent };

/** Events already visible as messages are left out of the timeline. */
const HIDDEN_EVENTS = new Set<EventType>(['message.created', 'conversation.created', 'message.updated']);

/** A reply's delivery is shown on the reply itself; the timeline says only that one failed. */
const shown = (e: TimelineEvent) => !HIDDEN_EVENTS.has(e.type) && !(e.type === 'message.delivery_changed' && e.data.status !== 'failed');

/**
 * The whole thread, oldest at the top. Virtualized (only rows on screen are in the DOM) and paged
 * newest-first from the API, so a 5,000-message conversation opens with one request and older pages
 * load as the agent scrolls up.
 */
export function Thread({ conversationId }: { conversationId: string }) {
  const { ws } = useWorkspace();
  const messages = useMessages(ws, conversationId);
  const events = useConversationEvents(ws, conversationId);
  const users = useUsers(ws);
  const teams = useTeams(ws);
  const parentRef = useRef<HTMLElement>(null);

  const items: Item[] = useMemo(() => {
    const msgs = (messages.data?.pages ?? [])
      .flatMap((p) => p.items)
      .slice()
      .reverse();
    const oldest = msgs[0]?.createdAt;
    const complete = !messages.hasNextPage;
    const evs = (events.data?.pages ?? []).flatMap((p) => p.items).filter((e) => shown(e) && (complete || (oldest && e.createdAt >= oldest)));
    const all: Item[] = [
      ...msgs.map((m) => ({ kind: 'message' as const, at: m.createdAt, key: `m:${m.id}`, message: m })),
      ...evs.map((e) => ({ kind: 'event' as const, at: e.createdAt, key: `e:${e.id}`, event: e })),
    ];
    return all.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.kind === 'message' ? -1 : 1));
  }, [messages.data, events.data, messages.hasNextPage]);

  const virtualizer = useVirtualizer({
    count: items.length,
    getScrollElement: () => parentRef.current,
    estimateSize: (i) => (items[i]?.kind === 'event' ? 32 : 120),
    getItemKey: (i) => items[i]?.key ?? i,
    overscan: 6,
  });

  // Stick to the bottom when new messages arrive and the agent is already there; when older pages
  // are prepended, keep the message the agent was reading in place.
  const firstKey = items[0]?.key;
  const lastKey = items[items.length - 1]?.key;
  const prev = useRef<{ first?: string; last?: string; count: number; atBottom: boolean }>({ count: 0, atBottom: true });
  useLayoutEffect(() => {
    const p = prev.current;
    if (items.length === 0) return;
    if (p.count === 0 || (lastKey !== p.last && p.atBottom)) {
      virtualizer.scrollToIndex(items.length - 1, { align: 'end' });
    } else if (firstKey !== p.first && p.first) {
      const i = items.findIndex((it) => it.key === p.first);
      if (i > 0) virtualizer.scrollToIndex(i, { align: 'start' });
    }
    prev.current = { first: firstKey, last: lastKey, count: items.length, atBottom: p.atBottom };
    // items changes with every refetch, but the effect acts only when the first or last key moved.
  }, [items, firstKey, lastKey, virtualizer]);

  useEffect(() => {
    const el = parentRef.current;
    if (!el) return;
    const onScroll = () => {
      prev.current.atBottom = el.scrollHeight - el.scrollTop - el.clientHeight < 80;
      if (el.scrollTop < 200 && messages.hasNextPage && !messages.isFetchingNextPage) void messages.fetchNextPage();
    };
    el.addEventListener('scroll', onScroll, { passive: true });
    return () => el.removeEventListener('scroll', onScroll);
  }, [messages.hasNextPage, messages.isFetchingNextPage, messages.fetchNextPage]); // eslint-disable-line react-hooks/exhaustive-deps

  if (messages.isPending) return <Loading label="Loading messages…" />;
  if (messages.isError) return <ErrorState error={messages.error} retry={() => messages.refetch()} />;
  if (items.length === 0) return <Empty title="No messages yet" />;

  const names = new Map((users.data ?? []).map((u: Member) => [u.id, u.name]));
  const teamNames = new Map((teams.data ?? []).map((t) => [t.id, t.name]));
  return (
    <section ref={parentRef} className="thread" data-testid="thread" aria-label="Messages">
      {messages.isFetchingNextPage ? <div className="thread-more">Loading older messages…</div> : null}
      <div className="virtual-space" style={{ height: virtualizer.getTotalSize() }}>
        {virtualizer.getVirtualItems().map((v) => {
          const item = items[v.index];
          return (
            <div key={v.key} data-index={v.index} ref={virtualizer.measureElement} className="virtual-row" style={{ transform: `translateY(${v.start}px)` }}>
              {item.kind === 'message' ? <MessageItem m={item.message} /> : <EventItem e={item.event} users={names} teams={teamNames} />}
            </div>
          );
        })}
      </div>
    </section>
  );
}

function MessageItem({ m }: { m: Message }) {
  const who = m.author.name ?? (m.author.type === 'customer' ? 'Customer' : m.author.type === 'token' ? 'API' : m.author.type === 'system' ? 'Rapport' : 'Agent');
  const label = m.type === 'note' ? 'Internal note' : m.type === 'outbound' ? 'Reply' : null;
  return (
    <article className={`message message-${m.type}`} data-message-type={m.type} aria-label={`${label ?? 'Message'} from ${who}`}>
      <div className="message-head">
        <Avatar name={who} size={24} />
        <strong className="message-author">{who}</strong>
        {label ? <span className={`badge kind-${m.type}`}>{label}</span> : null}
        <span className="spacer" />
        <time dateTime={m.createdAt} className="muted small">
          {dateTime(m.createdAt)}
        </time>
      </div>
      <MessageBody message={m} />
    </article>
  );
}

const STATUS_WORDS: Record<string, string> = { open: 'reopened this', pending: 'set this to pending', resolved: 'resolved this', closed: 'closed this', snoozed: 'snoozed this' };
const DELIVERY_WORDS: Record<string, string> = {
  queued: 'A reply is waiting to be sent',
  sent: 'A reply was sent',
  delivered: 'A reply was delivered',
  read: 'A reply was read',
  failed: 'A reply could not be delivered',
};

/** A short day and time ("Mon 9:00"); the full date when it is not this week. */
export function wakeTime(iso: string, now = Date.now()): string {
  const d = new Date(iso);
  const withinWeek = Math.abs(d.getTime() - now) < 6 * 86_400_000;
  return d.toLocaleString(undefined, withinWeek ? { weekday: 'short', hour: 'numeric', minute: '2-digit' } : { dateStyle: 'medium', timeStyle: 'short' });
}

/**
 * Each timeline event as a sentence about people ("Ana assigned this to Bo", "Snoozed until Mon
 * 9:00"), never its internal type; one the app does not know yet reads "Ana updated this".
 */
export function describeEvent(e: TimelineEvent, users: Map<string, string>, teams: Map<string, string>): string | null {
  const person = (id: string | null) => (id ? (users.get(id) ?? 'someone') : 'nobody');
  const actor = e.actor.type === 'user' && e.actor.id ? person(e.actor.id) : e.actor.type === 'token' ? 'An API client' : e.actor.type === 'customer' ? 'The customer' : 'Rapport';
  switch (e.type) {
    case 'conversation.status_changed': {
      const d = e.data;
      // Reopened by the system: say why, not "Rapport changed status".
      if (d.reason === 'customer_replied') return "Reopened by the customer's reply";
      if (d.reason === 'snooze_ended') return 'Reopened: the snooze ended';
      if (d.to === 'snoozed') return d.snoozedUntil ? `${actor} snoozed this until ${wakeTime(d.snoozedUntil)}` : `${actor} snoozed this`;
      return `${actor} ${STATUS_WORDS[d.to] ?? 'changed the status'}`;
    }
    case 'conversation.priority_changed':
      return `${actor} set the priority to ${e.data.to}`;
    case 'conversation.assigned': {
      const to = e.data.to;
      if (!to) return `${actor} unassigned this`;
      if (e.actor.type === 'user' && e.actor.id === to) return `${actor} took this`;
      return `${actor} assigned this to ${person(to)}`;
    }
    case 'conversation.team_changed':
      return e.data.to ? `${actor} moved this to the ${teams.get(e.data.to) ?? 'other'} team` : `${actor} removed the team`;
    case 'conversation.tags_changed': {
      const added = e.data.added.map((t) => `#${t}`);
      const removed = e.data.removed.map((t) => `#${t}`);
      return `${actor} ${[added.length ? `added ${added.join(' ')}` : '', removed.length ? `removed ${removed.join(' ')}` : ''].filter(Boolean).join(', ')}`;
    }
    case 'conversation.subject_changed':
      return `${actor} changed the subject`;
    case 'message.delivery_changed':
      // Only the news an agent acts on: a failure (the reply itself shows its state and "Retry now").
      return e.data.status === 'failed' ? DELIVERY_WORDS.failed : null;
    case 'message.created':
    case 'message.updated':
    case 'conversation.created':
      return null;
    default:
      return `${actor} updated this`;
  }
}

function EventItem({ e, users, teams }: { e: TimelineEvent; users: Map<string, string>; teams: Map<string, string> }) {
  const sentence = describeEvent(e, users, teams);
  if (!sentence) return null;
  return (
    <div className="timeline-event" data-event-type={e.type}>
      <span>{sentence}</span>{' '}
      <time className="muted" dateTime={e.createdAt}>
        {dateTime(e.createdAt)}
      </time>
    </div>
  );
}
