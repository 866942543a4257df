import type { Queryable } from '../../db/pool.js';

export const teamsRepository = {
  async insert(tx: Queryable, ws: string, name: string, at: Date): Promise<string | undefined> {
    const { rows } = await tx.query<{ id: string }>('insert into teams (workspace_id, name, created_at) values ($1, $2, $3) on conflict do nothing returning id', [ws, name, at]);
    return rows[0]?.id;
  },

  async addMembers(tx: Queryable, ws: string, teamId: string, userIds: string[]): Promise<number> {
    // The service has checked that each is a member of the workspace (through the workspaces service).
    const { rowCount } = await tx.query(
      `insert into team_members (workspace_id, team_id, user_id)
       select $1, $2, u from unnest($3::uuid[]) as u
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

  async rename(tx: Queryable, ws: string, id: string, name: string): Promise<'ok' | 'missing' | 'taken'> {
    let renamed: boolean;
    try {
      const { rows } = await tx.query<{ id: string }>(
        `update teams set name = $3 where workspace_id = $1 and id = $2
           and not exists (select 1 from teams o where o.workspace_id = $1 and lower(o.name) = lower($3) and o.id <> $2)
         returning id`,
        [ws, id, name],
      );
      renamed = rows.length > 0;
    } catch (error) {
      // Two renames to the same name at once: the unique index decides (the caller rolls back).
      if ((error as { code?: string }).code === '23505') return 'taken';
      throw error;
    }
    if (renamed) return 'ok';
    return (await tx.query('select 1 from teams where workspace_id = $1 and id = $2', [ws, id])).rowCount ? 'taken' : 'missing';
  },

  async exists(tx: Queryable, ws: string, id: string): Promise<boolean> {
    return ((await tx.query('select 1 from teams where workspace_id = $1 and id = $2', [ws, id])).rowCount ?? 0) > 0;
  },

  async ids(tx: Queryable, ws: string): Promise<string[]> {
    const { rows } = await tx.query<{ id: string }>('select id from teams where workspace_id = $1 order by id', [ws]);
    return rows.map((r) => r.id);
  },

  async removeFromAll(tx: Queryable, ws: string, userId: string): Promise<void> {
    await tx.query('delete from team_members where workspace_id = $1 and user_id = $2', [ws, userId]);
  },

  async removeMembers(tx: Queryable, ws: string, teamId: string, userIds: string[]): Promise<void> {
    await tx.query('delete from team_members where workspace_id = $1 and team_id = $2 and user_id = any($3::uuid[])', [ws, teamId, userIds]);
  },
};
