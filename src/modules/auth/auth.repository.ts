import type { Queryable } from '../../db/pool.js';
import type { Role } from './roles.js';

/** Users, sessions, memberships and token look-ups. Called in a system context (they cross workspaces). */
export interface UserRow {
  id: string;
  email: string;
  name: string;
  password_hash: string | null;
  disabled_at: Date | null;
}

export interface WorkspaceMembership {
  id: string;
  name: string;
  slug: string;
  role: Role;
}

export const authRepository = {
  async findUserByEmail(tx: Queryable, email: string): Promise<UserRow | undefined> {
    const { rows } = await tx.query<UserRow>('select id, email, name, password_hash, disabled_at from users where lower(email) = lower($1)', [email]);
    return rows[0];
  },

  async findUser(tx: Queryable, id: string): Promise<UserRow | undefined> {
    const { rows } = await tx.query<UserRow>('select id, email, name, password_hash, disabled_at from users where id = $1', [id]);
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
    await tx.query('insert into sessions (token_hash, user_id, csrf_token, created_at, expires_at) values ($1, $2, $3, $4, $5)', [
      s.tokenHash, s.userId, s.csrfToken, s.createdAt, s.expiresAt,
    ]);
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

  async findToken(tx: Queryable, tokenHash: Buffer) {
    const { rows } = await tx.query<{ id: string; workspace_id: string; role: Role }>(
      'select id, workspace_id, role from api_tokens where token_hash = $1 and revoked_at is null',
      [tokenHash],
    );
    return rows[0];
  },

  async touchToken(tx: Queryable, id: string, now: Date): Promise<void> {
    // At most one write a minute per token: a busy integration must not turn every read into a write.
    await tx.query(
      `update api_tokens set last_used_at = $2 where id = $1 and (last_used_at is null or last_used_at < $2::timestamptz - interval '1 minute')`,
      [id, now],
    );
  },
};
