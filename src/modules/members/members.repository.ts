import type { Queryable } from '../../db/pool.js';
import type { Role } from '../auth/roles.js';

/** Memberships: role changes and removal. */
export const membersRepository = {
  /** Locks the workspace's owner rows so two demotions cannot each think another owner remains. */
  async lockOwners(tx: Queryable, ws: string): Promise<string[]> {
    const { rows } = await tx.query<{ user_id: string }>("select user_id from memberships where workspace_id = $1 and role = 'owner' order by user_id for update", [ws]);
    return rows.map((r) => r.user_id);
  },

  async find(tx: Queryable, ws: string, userId: string) {
    const { rows } = await tx.query<{ id: string; email: string; name: string; role: Role; created_at: Date }>(
      `select u.id, u.email, u.name, m.role, m.created_at from memberships m join users u on u.id = m.user_id
       where m.workspace_id = $1 and m.user_id = $2 for update of m`,
      [ws, userId],
    );
    return rows[0];
  },

  async setRole(tx: Queryable, ws: string, userId: string, role: Role): Promise<void> {
    await tx.query('update memberships set role = $3 where workspace_id = $1 and user_id = $2', [ws, userId, role]);
  },

  async remove(tx: Queryable, ws: string, userId: string): Promise<void> {
    await tx.query('delete from memberships where workspace_id = $1 and user_id = $2', [ws, userId]);
  },
};
