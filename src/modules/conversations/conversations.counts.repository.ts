import type { Queryable } from '../../db/pool.js';

export interface CountsRow {
  mine: number;
  unassigned: number;
  open: number;
  pending: number;
  snoozed: number;
  resolved: number;
  closed: number;
  by_team: Array<{ team_id: string; n: number }>;
  by_priority: Record<string, number>;
}

export interface TagCountsRow {
  tag: string;
  n: number;
}

/** The statuses a view lists: a view's status filter (web/src/screens/inbox/views.ts), one or more. */
export type ViewStatuses = readonly ('open' | 'pending' | 'snoozed' | 'resolved' | 'closed')[];

/** "All active": open and pending, the priority and tag views' default. */
export const ACTIVE_STATUSES: ViewStatuses = ['open', 'pending'];

/** A status condition on `c` over literal statuses (fixed words, never input: the schema's enum). */
const statusIn = (statuses: ViewStatuses) => (statuses.length === 1 ? `c.status = '${statuses[0]}'` : `c.status in (${statuses.map((s) => `'${s}'`).join(', ')})`);

/**
 * Which statuses each family of views counts: without a filter, Mine, Unassigned and the team views
 * count open conversations and the priority and tag views open and pending ones; with a status filter
 * (the list header's Open, Pending, Snoozed, Resolved, All active) every one of them counts that set.
 */
export interface ViewStatusSets {
  assignee: ViewStatuses;
  team: ViewStatuses;
  priority: ViewStatuses;
}

export function viewStatusSets(filter: ViewStatuses | undefined): ViewStatusSets {
  return filter ? { assignee: filter, team: filter, priority: filter } : { assignee: ['open'], team: ['open'], priority: ACTIVE_STATUSES };
}

/**
 * The inbox counts in one statement. Each count reads at most `cap + 1` index entries (a LIMIT inside
 * the count), so a workspace with a million conversations costs the same as one with ten thousand:
 *   mine, unassigned   conversations_assignee_activity_idx (workspace_id, assignee_id, status, ...)
 *   by status          conversations_status_activity_idx   (workspace_id, status, ...)
 *   by team            conversations_team_activity_idx     (workspace_id, team_id, status, ...)
 *   by priority        conversations_priority_activity_idx (workspace_id, priority, status, ...)
 */
export function countsQuery(ws: string, userId: string | null, cap: number, teamIds: string[], sets: ViewStatusSets = viewStatusSets(undefined)): { text: string; values: unknown[] } {
  const capped = (where: string) => `(select count(*)::int from (select 1 from conversations c where c.workspace_id = $1 and ${where} limit $3) s)`;
  return {
    text: `select
      ${capped(`c.assignee_id = $2::uuid and ${statusIn(sets.assignee)}`)} as mine,
      ${capped(`c.assignee_id is null and ${statusIn(sets.assignee)}`)} as unassigned,
      ${capped("c.status = 'open'")} as open,
      ${capped("c.status = 'pending'")} as pending,
      ${capped("c.status = 'snoozed'")} as snoozed,
      ${capped("c.status = 'resolved'")} as resolved,
      ${capped("c.status = 'closed'")} as closed,
      coalesce((select json_agg(json_build_object('team_id', t.id, 'n', ${capped(`c.team_id = t.id and ${statusIn(sets.team)}`)}) order by t.id)
        from unnest($4::uuid[]) as t(id)), '[]') as by_team,
      json_build_object(${['urgent', 'high', 'normal', 'low'].map((p) => `'${p}', ${capped(`c.priority = '${p}' and ${statusIn(sets.priority)}`)}`).join(', ')}) as by_priority`,
    values: [ws, userId, cap + 1, teamIds],
  };
}

/**
 * Tags in use and how many open or pending conversations carry each, without a tags table: read from
 * at most `scan` conversations through the inbox indexes, never the whole workspace.
 *   counts      the `scan` most recently active conversations of `statuses` (open and pending unless the
 *               view's status filter says otherwise; one ordered walk of
 *               conversations_status_activity_idx per status, so the planner never scans the table)
 *   tag names   also the `scan` most recently active conversations of any status
 *               (conversations_activity_idx), so a tag only on resolved conversations is listed, at 0
 * `activeRows` says whether the first scan reached its limit (the counts are then lower bounds).
 */
export function tagCountsQuery(ws: string, scan: number, statuses: ViewStatuses = ACTIVE_STATUSES): { text: string; values: unknown[] } {
  const walks = statuses.map(
    (s) => `(select c.tags, c.last_activity_at, c.id from conversations c where c.workspace_id = $1 and c.status = '${s}' order by c.last_activity_at desc, c.id desc limit $2)`,
  );
  return {
    text: `with active as (
        select a.tags from (
          ${walks.join('\n          union all\n          ')}
        ) a order by a.last_activity_at desc, a.id desc limit $2
      ), recent as (
        select c.tags from conversations c where c.workspace_id = $1 order by c.last_activity_at desc, c.id desc limit $2
      ), counted as (
        select t, count(*)::int as n from active, unnest(active.tags) t group by t
      ), named as (
        select distinct t from recent, unnest(recent.tags) t
      )
      select (select count(*)::int from active) as active_rows,
        coalesce((select json_agg(json_build_object('tag', x.tag, 'n', x.n) order by x.n desc, x.tag) from (
          select coalesce(counted.t, named.t) as tag, coalesce(counted.n, 0) as n
          from counted full join named on named.t = counted.t
          order by n desc, tag limit $3
        ) x), '[]') as items`,
    values: [ws, scan, MAX_TAGS],
  };
}

/** The tag list is a navigation aid: the most used tags, not every tag ever typed. */
export const MAX_TAGS = 200;

/** The counts behind the inbox views (modules/views): conversations' SQL, so it lives here. */
export const conversationCountsRepository = {
  async tagCounts(tx: Queryable, ws: string, scan: number, statuses?: ViewStatuses): Promise<{ items: TagCountsRow[]; scanned: number }> {
    const q = tagCountsQuery(ws, scan, statuses);
    const { rows } = await tx.query<{ items: TagCountsRow[]; active_rows: number }>(q.text, q.values);
    return { items: rows[0].items, scanned: rows[0].active_rows };
  },

  async counts(tx: Queryable, ws: string, userId: string | null, cap: number, teamIds: string[], sets?: ViewStatusSets): Promise<CountsRow> {
    const q = countsQuery(ws, userId, cap, teamIds, sets);
    const { rows } = await tx.query<CountsRow>(q.text, q.values);
    return rows[0];
  },
};
