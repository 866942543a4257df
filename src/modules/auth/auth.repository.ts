import type { Queryable } from '../../db/pool.js';
import type { Role } from './roles.js';

/** Users, sessions, memberships and token look-ups. Called in a system context (they cross workspaces). */
export interface UserRow {
  id: string;
  email: string;
  name: string;
  password_hash: string | null;
  disabled_at: Date | null;
  instance_admin: boolean;
}

export interface SecurityAlertRow {
  id: string;
  kind: 'password_guessing' | 'password_reset';
  created_at: Date;
  details: Record<string, unknown>;
}

export interface WorkspaceMembership {
  id: string;
  name: string;
  slug: string;
  role: Role;
}

// Role order in SQL, the same as roles.ts.
const RANK_SQL = (col: string) => `(case ${col} when 'owner' then 50 when 'admin' then 40 when 'supervisor' then 30 when 'agent' then 20 else 10 end)`;

export const authRepository = {
  async findUserByEmail(tx: Queryable, email: string): Promise<UserRow | undefined> {
    const { rows } = await tx.query<UserRow>('select id, email, name, password_hash, disabled_at, instance_admin from users where lower(email) = lower($1)', [email]);
    return rows[0];
  },

  async findUser(tx: Queryable, id: string): Promise<UserRow | undefined> {
    const { rows } = await tx.query<UserRow>('select id, email, name, password_hash, disabled_at, instance_admin from users where id = $1', [id]);
    return rows[0];
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

  async createSession(tx: Queryable, s: { tokenHash: Buffer; userId: string; csrfToken: string; createdAt: Date; expiresAt: Date }): Promise<void> {
    await tx.query('insert into sessions (token_hash, user_id, csrf_token, created_at, expires_at) values ($1, $2, $3, $4, $5)', [s.tokenHash, s.userId, s.csrfToken, s.createdAt, s.expiresAt]);
  },

  async findSession(tx: Queryable, tokenHash: Buffer, now: Date) {
    const { rows } = await tx.query<{ user_id: string; csrf_token: string; email: string; name: string }>(
      `select s.user_id, s.csrf_token, u.email, u.name from sessions s join users u on u.id = s.user_id
       where s.token_hash = $1 and s.expires_at > $2 and u.disabled_at is null`,
      [tokenHash, now],
    );
    return rows[0];
  },

  async deleteSession(tx: Queryable, tokenHash: Buffer): Promise<void> {
    await tx.query('delete from sessions where token_hash = $1', [tokenHash]);
  },

  async membershipRole(tx: Queryable, workspaceId: string, userId: string): Promise<Role | undefined> {
    const { rows } = await tx.query<{ role: Role }>('select role from memberships where workspace_id = $1 and user_id = $2', [workspaceId, userId]);
    return rows[0]?.role;
  },

  /**
   * A live token and the role it acts with: never above its creator's current role in the workspace
   * (issue #8 M3). A creator who left the workspace, was deleted or is disabled takes their tokens'
   * power with them, even before removal revokes them.
   */
  async findToken(tx: Queryable, tokenHash: Buffer) {
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
  async isInstanceAdmin(tx: Queryable, userId: string): Promise<boolean> {
    const { rows } = await tx.query<{ instance_admin: boolean }>('select instance_admin from users where id = $1 and disabled_at is null', [userId]);
    return rows[0]?.instance_admin === true;
  },
  async insertAlert(tx: Queryable, a: { userId: string; kind: SecurityAlertRow['kind']; at: Date; details: Record<string, unknown> }): Promise<void> {
    await tx.query('insert into security_alerts (user_id, kind, created_at, details) values ($1, $2, $3, $4)', [a.userId, a.kind, a.at, a.details]);
  },
  async openAlerts(tx: Queryable, userId: string): Promise<SecurityAlertRow[]> {
    const { rows } = await tx.query<SecurityAlertRow>('select id, kind, created_at, details from security_alerts where user_id = $1 and dismissed_at is null order by created_at desc, id limit 20', [
      userId,
    ]);
    return rows;
  },
  async dismissAlert(tx: Queryable, userId: string, id: string, at: Date): Promise<boolean> {
    const { rowCount } = await tx.query('update security_alerts set dismissed_at = $3 where user_id = $1 and id = $2 and dismissed_at is null', [userId, id, at]);
    return rowCount === 1;
  },
  async touchToken(tx: Queryable, id: string, now: Date): Promise<void> {
    // At most one write a minute per token: a busy integration must not turn every read into a write.
    await tx.query(`update api_tokens set last_used_at = $2 where id = $1 and (last_used_at is null or last_used_at < $2::timestamptz - interval '1 minute')`, [id, now]);
  },
};
