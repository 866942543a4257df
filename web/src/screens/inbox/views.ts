import type { ConversationFilters, Counts, Priority, Status, StatusFilter, Team } from '../../api/types.js';

/**
 * Inbox views as URL-safe ids: `mine`, `unassigned`, `open`, `pending`, `snoozed`, `resolved`,
 * `team:<id>`, `priority:<p>`, `tag:<t>`. Each maps to the list API's filters and to its count.
 */
export const STATUS_VIEWS: Status[] = ['open', 'pending', 'snoozed', 'resolved'];
export const PRIORITY_VIEWS: Priority[] = ['urgent', 'high', 'normal', 'low'];

const ACTIVE: Status[] = ['open', 'pending'];

/** The status filter in the list header of every view but the status views themselves, in people's words. */
export const STATUS_FILTERS: Array<{ value: StatusFilter; label: string; statuses: Status[] }> = [
  { value: 'open', label: 'Open', statuses: ['open'] },
  { value: 'pending', label: 'Pending', statuses: ['pending'] },
  { value: 'snoozed', label: 'Snoozed', statuses: ['snoozed'] },
  { value: 'resolved', label: 'Resolved', statuses: ['resolved'] },
  { value: 'active', label: 'All active', statuses: ['open', 'pending'] },
];

/** Whether a view takes the status filter (a status view is already one status). */
export function hasStatusFilter(view: string): boolean {
  const [kind] = splitView(view);
  return kind === 'mine' || kind === 'unassigned' || kind === 'team' || kind === 'priority' || kind === 'tag';
}

/** A view's default status filter: Mine, Unassigned and teams show open conversations, priorities and tags all active ones. */
export function defaultStatusFilter(view: string): StatusFilter {
  const [kind] = splitView(view);
  return kind === 'priority' || kind === 'tag' ? 'active' : 'open';
}

/** The status filter the URL asks for (`?status=`), or null for the view's default. */
export function statusFilterOf(view: string, search: URLSearchParams): StatusFilter | null {
  const asked = search.get('status');
  if (!hasStatusFilter(view)) return null;
  const found = STATUS_FILTERS.find((f) => f.value === asked);
  return found && found.value !== defaultStatusFilter(view) ? found.value : null;
}

/** The view's list filters with its status filter applied (the same statuses its count uses). */
export function filteredViewFilters(view: string, status: StatusFilter | null): Omit<ConversationFilters, 'q' | 'sort'> {
  const filters = viewFilters(view);
  const chosen = status ? STATUS_FILTERS.find((f) => f.value === status) : undefined;
  return chosen && hasStatusFilter(view) ? { ...filters, status: chosen.statuses } : filters;
}

export function viewFilters(view: string): Omit<ConversationFilters, 'q' | 'sort'> {
  const [kind, arg] = splitView(view);
  switch (kind) {
    // Mine, Unassigned and the team views are open conversations, priority and tag views open and
    // pending ones: the same definitions the server counts with (GET conversations/counts), so a
    // view's count matches its list.
    case 'mine':
      return { assignee: 'me', status: ['open'] };
    case 'unassigned':
      return { assignee: 'none', status: ['open'] };
    case 'team':
      return { team: arg, status: ['open'] };
    case 'priority':
      return { priority: arg as Priority, status: ACTIVE };
    case 'tag':
      return { tag: arg, status: ACTIVE };
    case 'all':
      return {};
    default:
      return STATUS_VIEWS.includes(kind as Status) ? { status: [kind as Status] } : { status: ['open'] };
  }
}

export function splitView(view: string): [string, string] {
  const i = view.indexOf(':');
  return i < 0 ? [view, ''] : [view.slice(0, i), view.slice(i + 1)];
}

export function viewTitle(view: string, teams: Team[] | undefined): string {
  const [kind, arg] = splitView(view);
  switch (kind) {
    case 'mine':
      return 'Mine';
    case 'unassigned':
      return 'Unassigned';
    case 'open':
      return 'All open';
    case 'team':
      return teams?.find((t) => t.id === arg)?.name ?? 'Team';
    case 'priority':
      return `Priority: ${arg}`;
    case 'tag':
      return `Tag: ${arg}`;
    case 'all':
      return 'All conversations';
    default:
      return kind.charAt(0).toUpperCase() + kind.slice(1);
  }
}

export function viewCount(view: string, counts: Counts | null | undefined): number | undefined {
  if (!counts) return undefined;
  const [kind, arg] = splitView(view);
  if (kind === 'team') return counts.byTeam?.[arg];
  if (kind === 'priority') return counts.byPriority?.[arg];
  if (kind === 'tag') return counts.byTag ? (counts.byTag[arg] ?? 0) : undefined;
  if (kind === 'mine' || kind === 'unassigned' || kind === 'open' || kind === 'pending' || kind === 'snoozed' || kind === 'resolved') return counts[kind];
  return undefined;
}

export function formatCount(n: number | undefined, counts: Counts | null | undefined): string {
  if (n === undefined) return '';
  const short = (x: number) => (x >= 10_000 ? `${Math.floor(x / 1000)}k` : x.toLocaleString());
  if (counts?.cap !== undefined && n >= counts.cap) return `${short(counts.cap)}+`;
  return short(n);
}
