import type { Queryable } from '../../db/pool.js';

export const teamsRepository = {
  async insert(tx: Queryable, ws: string, name: string, at: Date): Promise<string | undefined> {
    const { rows } = await tx.query<{ id: string }>(
      'insert into teams (workspace_id, name, created_at) values ($1, $2, $3) on conflict do nothing returning id',
      [ws, name, at],
    );
    return rows[0]?.id;
  },

  async addMembers(tx: Queryable, ws: string, teamId: string, userIds: string[]): Promise<number> {
    // Only members of this workspace can join its teams.
    const { rowCount } = await tx.query(
      `insert into team_members (workspace_id, team_id, user_id)
       select $1, $2, m.user_id from memberships m where m.workspace_id = $1 and m.user_id = any($3::uuid[])
       on conflict do nothing`,
      [ws, teamId, userIds],
    );
    return rowCount ?? 0;
  },

  async list(tx: Queryable, ws: string) {
    const { rows } = await tx.query<{ id: string; name: string; created_at: Date; member_ids: string[] }>(
      `select t.id, t.name, t.created_at,
         coalesce(array(select tm.user_id from team_members tm where tm.workspace_id = t.workspace_id and tm.team_id = t.id order by tm.user_id), '{}') as member_ids
       from teams t where t.workspace_id = $1 order by lower(t.name), t.id`,
      [ws],
    );
    return rows;
  },
};
