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
}

/**
 * The inbox counts in one statement. Each count reads at most `cap + 1` index entries (a LIMIT inside
 * the count), so a workspace with a million conversations costs the same as one with ten thousand:
 *   mine, unassigned   conversations_assignee_activity_idx (workspace_id, assignee_id, status, ...)
 *   by status          conversations_status_activity_idx   (workspace_id, status, ...)
 *   by team            conversations_team_activity_idx     (workspace_id, team_id, status, ...)
 */
export function countsQuery(ws: string, userId: string | null, cap: number): { text: string; values: unknown[] } {
  const capped = (where: string) => `(select count(*)::int from (select 1 from conversations c where c.workspace_id = $1 and ${where} limit $3) s)`;
  return {
    text: `select
      ${capped("c.assignee_id = $2::uuid and c.status = 'open'")} as mine,
      ${capped("c.assignee_id is null and c.status = 'open'")} as unassigned,
      ${capped("c.status = 'open'")} as open,
      ${capped("c.status = 'pending'")} as pending,
      ${capped("c.status = 'snoozed'")} as snoozed,
      ${capped("c.status = 'resolved'")} as resolved,
      ${capped("c.status = 'closed'")} as closed,
      coalesce((select json_agg(json_build_object('team_id', t.id, 'n', ${capped("c.team_id = t.id and c.status = 'open'")}) order by t.id)
        from teams t where t.workspace_id = $1), '[]') as by_team`,
    values: [ws, userId, cap + 1],
  };
}

export const viewsRepository = {
  async counts(tx: Queryable, ws: string, userId: string | null, cap: number): Promise<CountsRow> {
    const q = countsQuery(ws, userId, cap);
    const { rows } = await tx.query<CountsRow>(q.text, q.values);
    return rows[0];
  },
};
