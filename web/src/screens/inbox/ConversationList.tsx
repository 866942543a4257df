import type { InfiniteData, UseInfiniteQueryResult } from '@tanstack/react-query';
import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useRef } from 'react';
import type { Conversation, Member, Page } from '../../api/types.js';
import { useUsers } from '../../api/workspace.js';
import { Empty, ErrorState, Loading } from '../../components/States.js';
import { since } from '../../lib/format.js';
import { useWorkspace } from '../../lib/workspace.js';
import { wakeTime } from '../conversation/Thread.js';

interface Props {
  query: UseInfiniteQueryResult<InfiniteData<Page<Conversation>, unknown>>;
  rows: Conversation[];
  selectedId: string | null;
  onOpen: (id: string) => void;
  filtered: boolean;
  /** Bulk selection (agents): the checked rows and how a click on a row's box changes them (shift: a range). */
  selection?: { checked: Set<string>; toggle: (index: number, shift: boolean) => void };
}

const ROW_HEIGHT = 84;

/** The inbox rows, virtualized: only what is on screen is in the DOM, pages load as the agent scrolls. */
export function ConversationList({ query, rows, selectedId, onOpen, filtered, selection }: Props) {
  const { ws, user } = useWorkspace();
  const users = useUsers(ws);
  const parentRef = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: rows.length + (query.hasNextPage ? 1 : 0),
    getScrollElement: () => parentRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 8,
  });
  const items = virtualizer.getVirtualItems();
  const lastIndex = items[items.length - 1]?.index;
  // fetchNextPage is stable for the life of the query observer.
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = query;

  useEffect(() => {
    if (lastIndex !== undefined && lastIndex >= rows.length - 5 && hasNextPage && !isFetchingNextPage) void fetchNextPage();
  }, [lastIndex, rows.length, hasNextPage, isFetchingNextPage, fetchNextPage]);

  // Scroll to the selected row when the selection changes, not when the rows refetch (that would pull
  // the list back while the agent scrolls): the rows are read through a ref.
  const rowsRef = useRef(rows);
  rowsRef.current = rows;
  useEffect(() => {
    const i = rowsRef.current.findIndex((r) => r.id === selectedId);
    if (i >= 0) virtualizer.scrollToIndex(i, { align: 'auto' });
  }, [selectedId, virtualizer]);

  // A search reads a bounded stretch per request: a page can come back empty with more to search.
  const searchingOn = filtered && rows.length === 0 && hasNextPage && !query.isError;
  useEffect(() => {
    if (searchingOn && !isFetchingNextPage) void fetchNextPage();
  }, [searchingOn, isFetchingNextPage, fetchNextPage]);

  if (query.isPending) return <Loading label="Loading conversations…" />;
  if (query.isError && rows.length === 0) return <ErrorState error={query.error} retry={() => query.refetch()} />;
  if (searchingOn) return <Loading label="Searching older conversations…" />;
  if (rows.length === 0)
    return (
      <Empty title={filtered ? 'No conversation matches this search' : 'Nothing here'}>
        {filtered ? 'Try other words, a #number or an email address.' : 'When conversations land in this view, they show up here.'}
      </Empty>
    );

  const names = new Map((users.data ?? []).map((u: Member) => [u.id, u.name]));
  return (
    <div ref={parentRef} className="conversation-list" data-testid="conversation-list">
      <ul className="virtual-space" style={{ height: virtualizer.getTotalSize() }}>
        {items.map((item) => {
          const row = rows[item.index];
          return (
            <li key={item.key} className="virtual-row" style={{ transform: `translateY(${item.start}px)`, height: item.size }}>
              {row ? (
                <div className={`row-wrap ${selection?.checked.has(row.id) ? 'checked' : ''}`}>
                  {selection ? (
                    <label className="row-check">
                      <input
                        type="checkbox"
                        aria-label={`Select #${row.number}`}
                        checked={selection.checked.has(row.id)}
                        onChange={() => undefined}
                        onClick={(e) => selection.toggle(item.index, e.shiftKey)}
                      />
                    </label>
                  ) : null}
                  <Row c={row} selected={row.id === selectedId} assignee={row.assigneeId ? (names.get(row.assigneeId) ?? 'Someone') : null} onOpen={onOpen} me={user.id} names={names} />
                </div>
              ) : (
                <div className="row-loading">Loading more…</div>
              )}
            </li>
          );
        })}
      </ul>
    </div>
  );
}

/**
 * Who wrote the previewed message: "You: " for the reader's own reply, "Ana: " for another agent's;
 * nothing before the customer's own words.
 */
export function previewAuthor(c: Conversation, me: string, names: Map<string, string>): string {
  const author = c.lastMessage?.author;
  if (!c.lastMessage || !author || author.type === 'customer') return '';
  if (author.type === 'user' && author.id === me) return 'You: ';
  const name = author.name ?? (author.id ? names.get(author.id) : undefined);
  return name ? `${name}: ` : author.type === 'token' ? 'API: ' : '';
}

function Row({ c, selected, assignee, onOpen, me, names }: { c: Conversation; selected: boolean; assignee: string | null; onOpen: (id: string) => void; me: string; names: Map<string, string> }) {
  const customer = c.customer.name ?? c.customer.email ?? c.customer.phone ?? 'Unknown customer';
  const waited = c.waitingSince ? since(c.waitingSince) : '';
  return (
    <button type="button" className={`row ${selected ? 'selected' : ''} status-${c.status}`} onClick={() => onOpen(c.id)} data-conversation-id={c.id} aria-current={selected ? 'true' : undefined}>
      <div className="row-line">
        <span className="row-number">#{c.number}</span>
        <span className="row-customer">{customer}</span>
        <span className="spacer" />
        {c.priority !== 'normal' ? <span className={`badge prio-${c.priority}`}>{c.priority}</span> : null}
        {c.status === 'snoozed' && c.snoozedUntil ? (
          <span className="row-wakes" title={`Snoozed until ${new Date(c.snoozedUntil).toLocaleString()}`}>
            Wakes {wakeTime(c.snoozedUntil)}
          </span>
        ) : waited ? (
          <span className="row-waited" title={`Customer waiting since ${new Date(c.waitingSince!).toLocaleString()}`}>
            {waited}
          </span>
        ) : (
          <span className="row-time">{since(c.lastActivityAt)}</span>
        )}
      </div>
      <div className="row-subject">{c.subject ?? '(no subject)'}</div>
      <div className="row-line row-meta">
        <span className="row-preview">
          {previewAuthor(c, me, names)}
          {c.lastMessage?.preview ?? ''}
        </span>
        <span className="spacer" />
        <span className="badge channel">{c.channel}</span>
        <span className="row-assignee">{assignee ?? 'Unassigned'}</span>
      </div>
    </button>
  );
}
