import { useEffect, useMemo, useState } from 'react';
import { ApiError } from '../../api/client.js';
import { useSearch, type SearchConversation, type SearchCustomer, type SearchParams } from '../../api/search.js';
import type { Status } from '../../api/types.js';
import { useInboxes, useTeams, useUsers } from '../../api/workspace.js';
import { Empty, errorMessage, Loading } from '../../components/States.js';
import { dateTime, since } from '../../lib/format.js';
import { customerPath, inboxPath, navigate, searchPath, useLocation } from '../../lib/router.js';
import { useWorkspace } from '../../lib/workspace.js';

const STATUSES: Status[] = ['open', 'pending', 'snoozed', 'resolved', 'closed'];
const STATUS_LABELS: Record<Status, string> = { open: 'Open', pending: 'Pending', snoozed: 'Snoozed', resolved: 'Resolved', closed: 'Closed' };
/** The URL's filter names: what the agent sees in the address bar. */
const FILTERS = ['status', 'inbox', 'team', 'assignee', 'tag', 'from', 'to'] as const;

/** A local calendar day (YYYY-MM-DD, a date input's value) as the instant it starts. */
const dayStart = (day: string, plusDays = 0) => {
  const [y, m, d] = day.split('-').map(Number);
  return new Date(y, m - 1, d + plusDays).toISOString();
};

/** The API's parameters from the URL: the dates are the agent's local days (`to` includes its day). */
export function searchParamsOf(search: URLSearchParams): SearchParams {
  const day = (key: string) => (/^\d{4}-\d{2}-\d{2}$/.test(search.get(key) ?? '') ? search.get(key)! : null);
  const status = search.get('status') as Status | null;
  const from = day('from');
  const to = day('to');
  return {
    q: (search.get('q') ?? '').trim(),
    ...(status && STATUSES.includes(status) ? { status: [status] } : {}),
    ...(search.get('inbox') ? { inboxId: search.get('inbox')! } : {}),
    ...(search.get('team') ? { teamId: search.get('team')! } : {}),
    ...(search.get('assignee') ? { assigneeId: search.get('assignee')! } : {}),
    ...(search.get('tag') ? { tag: search.get('tag')! } : {}),
    ...(from ? { from: dayStart(from) } : {}),
    ...(to ? { to: dayStart(to, 1) } : {}),
  };
}

/** A search's problem in people's words: the server's own sentence for a search refusal or a 429, never a field path. */
function searchError(error: unknown): string {
  if (error instanceof ApiError && (error.code.startsWith('search.') || error.status === 429)) return error.message;
  return errorMessage(error);
}

/** One search for everything: conversations in every status and customers, grouped, with filters. */
export default function SearchScreen() {
  const { ws } = useWorkspace();
  const { search } = useLocation();
  const params = useMemo(() => searchParamsOf(search), [search]);
  const results = useSearch(ws, params);
  const filtered = FILTERS.some((f) => search.get(f));
  // The words as the server's full-text search splits them (letters and digits), for marking in excerpts.
  const words = useMemo(() => params.q.split(/[^\p{L}\p{N}]+/u).filter((w) => w.length > 0), [params.q]);

  useEffect(() => {
    document.title = params.q ? `“${params.q}” · Search · Rapport` : 'Search · Rapport';
  }, [params.q]);

  const setFilter = (key: (typeof FILTERS)[number], value: string) => {
    const next = new URLSearchParams(search);
    if (value) next.set(key, value);
    else next.delete(key);
    navigate(searchPath(ws, next), { replace: true });
  };
  const clearFilters = () => {
    const next = new URLSearchParams(search);
    for (const f of FILTERS) next.delete(f);
    navigate(searchPath(ws, next), { replace: true });
  };

  const pages = results.data?.pages ?? [];
  const conversations = pages.flatMap((p) => p.conversations.items);
  const customers = pages[0]?.customers.items ?? [];
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = results;
  // A page reads a bounded stretch: an empty one may still have more to search (as the inbox list does).
  const searchingOn = conversations.length === 0 && hasNextPage && !results.isError;
  useEffect(() => {
    if (searchingOn && !isFetchingNextPage) void fetchNextPage();
  }, [searchingOn, isFetchingNextPage, fetchNextPage]);

  return (
    <div className="search-screen">
      <div className="search-head">
        <h1>{params.q ? <>Results for “{params.q}”</> : 'Search'}</h1>
        <Filters search={search} onChange={setFilter} onClear={filtered ? clearFilters : null} />
      </div>
      {!params.q ? (
        <Empty title="Search everything">Type words, a customer’s name, email or phone number, or a #number in the search box above. Press / to get there from anywhere.</Empty>
      ) : results.isPending ? (
        <Loading label="Searching…" />
      ) : results.isError && pages.length === 0 ? (
        <div className="state state-error" role="alert">
          <strong>The search did not go through.</strong>
          <div>{searchError(results.error)}</div>
          <button type="button" className="btn" onClick={() => results.refetch()}>
            Try again
          </button>
        </div>
      ) : (
        <div className="search-groups">
          <section className="search-group" aria-labelledby="search-conversations">
            <h2 id="search-conversations">Conversations</h2>
            {searchingOn ? (
              <Loading label="Searching older conversations…" />
            ) : conversations.length === 0 ? (
              <Empty title="No conversation matches">
                Search looks in every status. Try fewer words, an email address or a #number
                {filtered ? (
                  <>
                    , or{' '}
                    <button type="button" className="link" onClick={clearFilters}>
                      clear the filters
                    </button>
                  </>
                ) : null}
                .
              </Empty>
            ) : (
              <ul className="search-results" data-testid="search-conversations">
                {conversations.map((c) => (
                  <li key={c.id}>
                    <ConversationResult c={c} words={words} onOpen={() => navigate(inboxPath(ws, 'all', c.id))} />
                  </li>
                ))}
              </ul>
            )}
            {results.isError && pages.length > 0 ? (
              <div className="inline-error" role="alert">
                {searchError(results.error)}
              </div>
            ) : null}
            {conversations.length > 0 && hasNextPage ? (
              <button type="button" className="btn" disabled={isFetchingNextPage} onClick={() => void fetchNextPage()}>
                {isFetchingNextPage ? 'Searching…' : 'Show more'}
              </button>
            ) : null}
          </section>
          <section className="search-group search-customers" aria-labelledby="search-customers">
            <h2 id="search-customers">Customers</h2>
            {customers.length === 0 ? (
              <Empty title="No customer matches">A customer is found by the start of their name, or by their whole email address or phone number.</Empty>
            ) : (
              <ul className="search-results" data-testid="search-customers">
                {customers.map((c) => (
                  <li key={c.id}>
                    <CustomerResult c={c} />
                  </li>
                ))}
              </ul>
            )}
          </section>
        </div>
      )}
    </div>
  );
}

function Filters({ search, onChange, onClear }: { search: URLSearchParams; onChange: (key: (typeof FILTERS)[number], value: string) => void; onClear: (() => void) | null }) {
  const { ws } = useWorkspace();
  const inboxes = useInboxes(ws);
  const teams = useTeams(ws);
  const users = useUsers(ws);
  const [tag, setTag] = useState(search.get('tag') ?? '');
  useEffect(() => setTag(search.get('tag') ?? ''), [search]);
  return (
    <fieldset className="search-filters">
      <legend className="sr-only">Filters</legend>
      <label>
        <span>Status</span>
        <select value={search.get('status') ?? ''} onChange={(e) => onChange('status', e.target.value)}>
          <option value="">Any status</option>
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {STATUS_LABELS[s]}
            </option>
          ))}
        </select>
      </label>
      <label>
        <span>Inbox</span>
        <select value={search.get('inbox') ?? ''} onChange={(e) => onChange('inbox', e.target.value)}>
          <option value="">Any inbox</option>
          {(inboxes.data ?? []).map((i) => (
            <option key={i.id} value={i.id}>
              {i.name}
            </option>
          ))}
        </select>
      </label>
      <label>
        <span>Team</span>
        <select value={search.get('team') ?? ''} onChange={(e) => onChange('team', e.target.value)}>
          <option value="">Any team</option>
          <option value="none">No team</option>
          {(teams.data ?? []).map((t) => (
            <option key={t.id} value={t.id}>
              {t.name}
            </option>
          ))}
        </select>
      </label>
      <label>
        <span>Assignee</span>
        <select value={search.get('assignee') ?? ''} onChange={(e) => onChange('assignee', e.target.value)}>
          <option value="">Anyone</option>
          <option value="me">Me</option>
          <option value="none">Unassigned</option>
          {(users.data ?? [])
            .filter((u) => u.role !== 'client_viewer')
            .map((u) => (
              <option key={u.id} value={u.id}>
                {u.name}
              </option>
            ))}
        </select>
      </label>
      <label>
        <span>Tag</span>
        <input
          type="text"
          value={tag}
          maxLength={50}
          placeholder="any"
          onChange={(e) => setTag(e.target.value)}
          onBlur={() => onChange('tag', tag.trim())}
          onKeyDown={(e) => {
            if (e.key === 'Enter') onChange('tag', tag.trim());
          }}
        />
      </label>
      <label>
        <span>Active from</span>
        <input type="date" value={search.get('from') ?? ''} onChange={(e) => onChange('from', e.target.value)} />
      </label>
      <label>
        <span>to</span>
        <input type="date" value={search.get('to') ?? ''} onChange={(e) => onChange('to', e.target.value)} />
      </label>
      {onClear ? (
        <button type="button" className="btn btn-ghost" onClick={onClear}>
          Clear filters
        </button>
      ) : null}
    </fieldset>
  );
}

/** Why a conversation is in the results, in words. */
function matchLine(c: SearchConversation): string {
  switch (c.match.kind) {
    case 'number':
      return `Conversation #${c.number}`;
    case 'customer':
      return `Customer: ${[c.customer.name, c.customer.email ?? c.customer.phone].filter(Boolean).join(', ')}`;
    case 'subject':
      return 'In the subject';
    default:
      return c.lastMessage?.preview ?? '';
  }
}

/** The excerpt with the searched words marked (whole words, any case: how the search matched them). React text only. */
function Excerpt({ text, words }: { text: string; words: string[] }) {
  const escaped = words.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).filter(Boolean);
  if (escaped.length === 0) return <>“{text}”</>;
  const pattern = new RegExp(`(?<![\\p{L}\\p{N}])(${escaped.join('|')})(?![\\p{L}\\p{N}])`, 'giu');
  // Split keeps the matches at odd places; each piece is keyed by where it starts in the excerpt.
  let at = 0;
  const parts = text.split(pattern).map((piece, i) => {
    const part = { piece, marked: i % 2 === 1, at };
    at += piece.length;
    return part;
  });
  return <>“{parts.filter((p) => p.piece !== '').map((p) => (p.marked ? <mark key={p.at}>{p.piece}</mark> : <span key={p.at}>{p.piece}</span>))}”</>;
}

function ConversationResult({ c, onOpen, words }: { c: SearchConversation; onOpen: () => void; words: string[] }) {
  const customer = c.customer.name ?? c.customer.email ?? c.customer.phone ?? 'Unknown customer';
  const status = c.status === 'snoozed' && c.snoozedUntil ? `Snoozed until ${dateTime(c.snoozedUntil)}` : STATUS_LABELS[c.status];
  return (
    <button type="button" className={`search-result status-${c.status}`} onClick={onOpen} data-conversation-id={c.id}>
      <div className="row-line">
        <span className="row-number">#{c.number}</span>
        <span className="row-customer">{customer}</span>
        <span className="spacer" />
        <span className={`badge status-badge status-${c.status}`}>{status}</span>
        <span className="row-time" title={dateTime(c.lastActivityAt)}>
          {since(c.lastActivityAt)}
        </span>
      </div>
      <div className="row-subject">{c.subject ?? '(no subject)'}</div>
      <div className="search-match">{c.match.snippet ? <Excerpt text={c.match.snippet} words={words} /> : matchLine(c)}</div>
    </button>
  );
}

function CustomerResult({ c }: { c: SearchCustomer }) {
  const { ws } = useWorkspace();
  const others = c.identities.filter((i) => i.value !== c.email && i.value !== c.phone);
  const href = customerPath(ws, c.id);
  return (
    <a
      className="search-result"
      href={href}
      data-customer-id={c.id}
      onClick={(e) => {
        if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return; // a new tab: the browser's own
        e.preventDefault();
        navigate(href);
      }}
    >
      <div className="row-line">
        <span className="row-customer">{c.name ?? c.email ?? c.phone ?? 'Unnamed customer'}</span>
      </div>
      <div className="search-identities">{[c.email, c.phone, ...others.map((i) => `${i.kind}: ${i.value}`)].filter(Boolean).join(' · ')}</div>
    </a>
  );
}
