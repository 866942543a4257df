import type { Queryable } from '../../db/pool.js';
import type { Role } from '../auth/roles.js';

/**
 * Accounts: the SQL for users, memberships, workspaces and API tokens that sign-in, principal
 * look-ups, invitations and password resets need. Called in a system context: accounts span
 * workspaces, and a token or an invitation names its workspace before any tenant context exists.
 */
export interface UserRow {
  id: string;
  email: string;
  name: string;
  password_hash: string | null;
  disabled_at: Date | null;
  instance_admin: boolean;
}

export interface WorkspaceMembership {
  id: string;
  name: string;
  slug: string;
  role: Role;
}

const USER_COLUMNS = 'id, email, name, password_hash, disabled_at, instance_admin';

// Role order in SQL, the same as roles.ts.
const RANK_SQL = (col: string) => `(case ${col} when 'owner' then 50 when 'admin' then 40 when 'supervisor' then 30 when 'agent' then 20 else 10 end)`;

export const accountsRepository = {
  async findUserByEmail(tx: Queryable, email: string): Promise<UserRow | undefined> {
    const { rows } = await tx.query<UserRow>(`select ${USER_COLUMNS} from users where lower(email) = lower($1)`, [email]);
    return rows[0];
  },

  async findUser(tx: Queryable, id: string): Promise<UserRow | undefined> {
    const { rows } = await tx.query<UserRow>(`select ${USER_COLUMNS} from users where id = $1`, [id]);
    return rows[0];
  },

  async setPasswordHash(tx: Queryable, userId: string, passwordHash: string): Promise<void> {
    await tx.query('update users set password_hash = $2 where id = $1', [userId, passwordHash]);
  },

  async setName(tx: Queryable, userId: string, name: string): Promise<void> {
    await tx.query('update users set name = $2 where id = $1', [userId, name]);
  },

  async workspacesOf(tx: Queryable, userId: string): Promise<WorkspaceMembership[]> {
    const { rows } = await tx.query<WorkspaceMembership>(
      `select w.id, w.name, w.slug, m.role from memberships m join workspaces w on w.id = m.workspace_id
       where m.user_id = $1 order by w.name, w.id`,
      [userId],
    );
    return rows;
  },

  async workspaceSummary(tx: Queryable, id: string): Promise<{ id: string; name: string; slug: string } | undefined> {
    const { rows } = await tx.query<{ id: string; name: string; slug: string }>('select id, name, slug from workspaces where id = $1', [id]);
    return rows[0];
  },

  async membershipRole(tx: Queryable, workspaceId: string, userId: string): Promise<Role | undefined> {
    const { rows } = await tx.query<{ role: Role }>('select role from memberships where workspace_id = $1 and user_id = $2', [workspaceId, userId]);
    return rows[0]?.role;
  },

  async isMemberByEmail(tx: Queryable, ws: string, email: string): Promise<boolean> {
    const { rowCount } = await tx.query('select 1 from memberships m join users u on u.id = m.user_id where m.workspace_id = $1 and lower(u.email) = lower($2)', [ws, email]);
    return rowCount === 1;
  },

  /**
   * A live token and the role it acts with: never above its creator's current role in the workspace
   * (issue #8 M3). A creator who left the workspace, was deleted or is disabled takes their tokens'
   * power with them, even before removal revokes them.
   */
  async findLiveToken(tx: Queryable, tokenHash: Buffer) {
    const { rows } = await tx.query<{ id: string; workspace_id: string; role: Role }>(
      `select t.id, t.workspace_id,
              case when ${RANK_SQL('m.role')} < ${RANK_SQL('t.role')} then m.role else t.role end as role
         from api_tokens t
         join memberships m on m.workspace_id = t.workspace_id and m.user_id = t.created_by
         join users u on u.id = t.created_by and u.disabled_at is null
        where t.token_hash = $1 and t.revoked_at is null`,
      [tokenHash],
    );
    return rows[0];
  },

  async touchToken(tx: Queryable, id: string, now: Date): Promise<void> {
    // At most one write a minute per token: a busy integration must not turn every read into a write.
    await tx.query(`update api_tokens set last_used_at = $2 where id = $1 and (last_used_at is null or last_used_at < $2::timestamptz - interval '1 minute')`, [id, now]);
  },

  /** Every live API token the account created, in every workspace. */
  async revokeAllTokensCreatedBy(tx: Queryable, userId: string, at: Date): Promise<number> {
    const { rowCount } = await tx.query('update api_tokens set revoked_at = $2 where created_by = $1 and revoked_at is null', [userId, at]);
    return rowCount ?? 0;
  },
};
