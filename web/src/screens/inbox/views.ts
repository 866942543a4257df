import type { ConversationFilters, Counts, Priority, Status, Team } from '../../api/types.js';

/**
 * Inbox views as URL-safe ids: `mine`, `unassigned`, `open`, `pending`, `snoozed`, `resolved`,
 * `team:<id>`, `priority:<p>`, `tag:<t>`. Each maps to the list API's filters and to its count.
 */
export const STATUS_VIEWS: Status[] = ['open', 'pending', 'snoozed', 'resolved'];
export const PRIORITY_VIEWS: Priority[] = ['urgent', 'high', 'normal', 'low'];

const ACTIVE: Status[] = ['open', 'pending'];

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
