import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { useConversationCounts, useConversations } from '../../api/conversations.js';
import type { Conversation, ConversationFilters } from '../../api/types.js';
import { useSavedViews } from '../../api/views.js';
import { Empty, Loading } from '../../components/States.js';
import { useTeams } from '../../api/workspace.js';
import { inboxPath, navigate, useLocation } from '../../lib/router.js';
import { useShortcuts } from '../../lib/shortcuts.js';
import { useWorkspace } from '../../lib/workspace.js';
import { ConversationScreen } from '../conversation/ConversationScreen.js';
import { BulkBar } from './BulkBar.js';
import { ConversationList } from './ConversationList.js';
import { listFiltersOf, SavedViewActions, SaveViewButton } from './SavedViews.js';
import { ViewsNav, ViewSelect } from './ViewsNav.js';
import { defaultStatusFilter, filteredViewFilters, hasStatusFilter, STATUS_FILTERS, statusFilterOf, viewTitle } from './views.js';

/** The list API's filters for a view and the URL's status filter, search and sort (also used to prefetch at start). */
export function inboxFilters(view: string, search: URLSearchParams): ConversationFilters {
  const q = search.get('q') ?? '';
  const sort = search.get('sort') === 'waiting_longest' ? 'waiting_longest' : 'last_activity';
  return { ...filteredViewFilters(view, statusFilterOf(view, search)), ...(q ? { q } : {}), sort };
}

/** Bulk actions take at most this many conversations (the API's limit). */
const MAX_BULK = 100;

export function InboxScreen({ view, conversationId }: { view: string; conversationId: string | null }) {
  const { ws, canWrite } = useWorkspace();
  const { search } = useLocation();
  const savedViews = useSavedViews(ws, canWrite);
  const saved = view.startsWith('saved:') ? savedViews.data?.find((v) => v.id === view.slice(6)) : undefined;
  const filters: ConversationFilters = useMemo(() => (saved ? listFiltersOf(saved.filters, search) : inboxFilters(view, search)), [view, search, saved]);
  const q = filters.q ?? '';
  const sort = filters.sort;
  // A saved view waits for its filters; one deleted (or no longer shared) says so instead of listing.
  const savedMissing = view.startsWith('saved:') && !saved;
  const list = useConversations(ws, filters, !savedMissing);
  const statusFilter = statusFilterOf(view, search);
  const counts = useConversationCounts(ws, statusFilter);
  const teams = useTeams(ws);
  const rows: Conversation[] = useMemo(() => list.data?.pages.flatMap((p) => p.items) ?? [], [list.data]);
  const title = saved ? saved.name : viewTitle(view, teams.data);

  // The checked rows (bulk actions): cleared when the list's filters change; shift-click checks a range.
  const [checked, setChecked] = useState<Set<string>>(() => new Set());
  const anchor = useRef<number | null>(null);
  const filtersKey = JSON.stringify(filters);
  // biome-ignore lint/correctness/useExhaustiveDependencies: the selection belongs to one list
  useEffect(() => {
    setChecked(new Set());
    anchor.current = null;
  }, [filtersKey]);
  const toggle = useCallback(
    (index: number, shift: boolean) => {
      const id = rows[index]?.id;
      if (!id) return;
      setChecked((prev) => {
        const next = new Set(prev);
        const on = !prev.has(id);
        const from = shift && anchor.current !== null ? Math.min(anchor.current, index) : index;
        const to = shift && anchor.current !== null ? Math.max(anchor.current, index) : index;
        for (let i = from; i <= to; i++) {
          const r = rows[i];
          if (!r) continue;
          if (on && next.size < MAX_BULK) next.add(r.id);
          else if (!on) next.delete(r.id);
        }
        return next;
      });
      anchor.current = index;
    },
    [rows],
  );
  const checkedIds = rows.filter((r) => checked.has(r.id)).map((r) => r.id);
  const allChecked = rows.length > 0 && checkedIds.length === Math.min(rows.length, MAX_BULK);

  const go = (id: string | null, params = search) => navigate(inboxPath(ws, view, id, params));
  const setParam = (key: string, value: string | null) => {
    const next = new URLSearchParams(search);
    if (value) next.set(key, value);
    else next.delete(key);
    navigate(inboxPath(ws, view, conversationId, next), { replace: key === 'q' });
  };

  const step = (delta: number) => {
    if (rows.length === 0) return;
    const i = rows.findIndex((r) => r.id === conversationId);
    const next = i < 0 ? (delta > 0 ? 0 : rows.length - 1) : Math.min(rows.length - 1, Math.max(0, i + delta));
    go(rows[next].id);
    if (next >= rows.length - 3 && list.hasNextPage && !list.isFetchingNextPage) void list.fetchNextPage();
  };
  const searchRef = useRef<HTMLInputElement>(null);
  // "/" is the global search's (App.tsx); this box searches within the view.
  useShortcuts({ j: () => step(1), k: () => step(-1) });

  useEffect(() => {
    document.title = `${title} · Rapport`;
  }, [title]);

  return (
    <div className={`inbox ${conversationId ? 'has-conversation' : ''}`}>
      <ViewsNav view={view} counts={counts.data} teams={teams.data} search={search} saved={savedViews.data} />
      <section className="list-pane" aria-label="Conversations">
        <div className="list-toolbar">
          <ViewSelect view={view} counts={counts.data} teams={teams.data} search={search} saved={savedViews.data} />
          <h1 className="view-title hide-narrow">
            {title}
            {saved?.shared ? <span className="shared-mark">shared</span> : null}
          </h1>
          {saved ? <SavedViewActions key={saved.id} view={saved} /> : null}
          {hasStatusFilter(view) && !saved ? (
            <label className="sort">
              <span className="sr-only">Status</span>
              <select aria-label="Status" value={statusFilter ?? defaultStatusFilter(view)} onChange={(e) => setParam('status', e.target.value === defaultStatusFilter(view) ? null : e.target.value)}>
                {STATUS_FILTERS.map((f) => (
                  <option key={f.value} value={f.value}>
                    {f.label}
                  </option>
                ))}
              </select>
            </label>
          ) : null}
          <SearchBox inputRef={searchRef} value={q} onChange={(v) => setParam('q', v || null)} />
          <label className="sort">
            <span className="sr-only">Sort</span>
            <select aria-label="Sort" value={sort} onChange={(e) => setParam('sort', e.target.value === 'last_activity' ? null : e.target.value)}>
              <option value="last_activity">Last activity</option>
              <option value="waiting_longest">Waiting longest</option>
            </select>
          </label>
          {canWrite && !saved ? <SaveViewButton key={view} filters={filters} suggestion={title} /> : null}
          {canWrite && rows.length > 0 ? (
            <label className="list-select-all">
              <input
                type="checkbox"
                aria-label="Select all on this page"
                checked={allChecked}
                onChange={() => setChecked(allChecked ? new Set() : new Set(rows.slice(0, MAX_BULK).map((r) => r.id)))}
              />
              Select all
            </label>
          ) : null}
        </div>
        {canWrite ? (
          <BulkBar
            ids={checkedIds}
            onDone={(changed) =>
              setChecked((prev) => {
                const next = new Set(prev);
                for (const id of changed) next.delete(id);
                return next;
              })
            }
            onClear={() => setChecked(new Set())}
          />
        ) : null}
        {savedMissing ? (
          savedViews.isPending ? (
            <Loading label="Loading the saved view…" />
          ) : (
            <Empty title="This saved view is gone">It was deleted, or is no longer shared with you. Pick another view.</Empty>
          )
        ) : (
          <ConversationList query={list} rows={rows} selectedId={conversationId} onOpen={(id) => go(id)} filtered={!!q} selection={canWrite ? { checked, toggle } : undefined} />
        )}
      </section>
      <section className="detail-pane" aria-label="Conversation">
        {conversationId ? (
          <ConversationScreen key={conversationId} conversationId={conversationId} onBack={() => go(null)} onNext={() => step(1)} />
        ) : (
          <div className="state state-empty detail-empty">
            <strong>No conversation open</strong>
            <div>
              Pick one from the list, or press <kbd>j</kbd> to open the first. <kbd>?</kbd> shows every shortcut.
            </div>
          </div>
        )}
      </section>
    </div>
  );
}

function SearchBox({ value, onChange, inputRef }: { value: string; onChange: (v: string) => void; inputRef: React.RefObject<HTMLInputElement | null> }) {
  const [text, setText] = useState(value);
  useEffect(() => setText(value), [value]);
  // The parent passes a new onChange on each render: read it through a ref so its renders do not
  // restart the debounce.
  const onChangeRef = useRef(onChange);
  onChangeRef.current = onChange;
  useEffect(() => {
    if (text === value) return;
    const t = setTimeout(() => onChangeRef.current(text.trim()), 300);
    return () => clearTimeout(t);
  }, [text, value]);
  return (
    <input
      ref={inputRef}
      type="search"
      className="search"
      placeholder="Search this view: words, #number, email"
      aria-label="Search conversations"
      value={text}
      maxLength={200}
      onChange={(e) => setText(e.target.value)}
      onKeyDown={(e) => {
        if (e.key === 'Escape') (e.target as HTMLInputElement).blur();
        if (e.key === 'Enter') onChange(text.trim());
      }}
    />
  );
}
