import type { Queryable } from '../../db/pool.js';
import type { Role } from '../auth/roles.js';

export const workspacesRepository = {
  async insertWorkspace(tx: Queryable, w: { name: string; slug: string; timeZone: string; at: Date }): Promise<string | undefined> {
    const { rows } = await tx.query<{ id: string }>('insert into workspaces (name, slug, time_zone, created_at) values ($1, $2, $3, $4) on conflict (slug) do nothing returning id', [
      w.name,
      w.slug,
      w.timeZone,
      w.at,
    ]);
    if (rows[0]) await tx.query('select rapport_ensure_conversation_sequence($1)', [rows[0].id]);
    return rows[0]?.id;
  },

  async anyWorkspace(tx: Queryable): Promise<boolean> {
    const { rowCount } = await tx.query('select 1 from workspaces limit 1');
    return rowCount === 1;
  },

  async findWorkspace(tx: Queryable, id: string) {
    const { rows } = await tx.query<{ id: string; name: string; slug: string; time_zone: string; created_at: Date }>('select * from workspaces where id = $1', [id]);
    return rows[0];
  },

  async findUserByEmail(tx: Queryable, email: string) {
    const { rows } = await tx.query<{ id: string; email: string; name: string }>('select id, email, name from users where lower(email) = lower($1)', [email]);
    return rows[0];
  },

  async insertUser(tx: Queryable, u: { email: string; name: string; passwordHash: string | null; at: Date; instanceAdmin?: boolean }): Promise<string> {
    const { rows } = await tx.query<{ id: string }>('insert into users (email, name, password_hash, created_at, instance_admin) values ($1, $2, $3, $4, $5) returning id', [
      u.email,
      u.name,
      u.passwordHash,
      u.at,
      u.instanceAdmin ?? false,
    ]);
    return rows[0].id;
  },

  async insertMembership(tx: Queryable, ws: string, userId: string, role: Role, at: Date): Promise<boolean> {
    const { rowCount } = await tx.query('insert into memberships (workspace_id, user_id, role, created_at) values ($1, $2, $3, $4) on conflict do nothing', [ws, userId, role, at]);
    return rowCount === 1;
  },

  async listMembers(tx: Queryable, ws: string) {
    const { rows } = await tx.query<{ id: string; email: string; name: string; role: Role; created_at: Date }>(
      `select u.id, u.email, u.name, m.role, m.created_at from memberships m join users u on u.id = m.user_id
       where m.workspace_id = $1 order by u.name, u.id`,
      [ws],
    );
    return rows;
  },

  /** Locks the workspace's owner rows so two demotions cannot each think another owner remains. */
  async lockOwners(tx: Queryable, ws: string): Promise<string[]> {
    const { rows } = await tx.query<{ user_id: string }>("select user_id from memberships where workspace_id = $1 and role = 'owner' order by user_id for update", [ws]);
    return rows.map((r) => r.user_id);
  },

  /** One member with their membership row locked (a role change or removal follows). */
  async lockMember(tx: Queryable, ws: string, userId: string) {
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

  async deleteMembership(tx: Queryable, ws: string, userId: string): Promise<void> {
    await tx.query('delete from memberships where workspace_id = $1 and user_id = $2', [ws, userId]);
  },

  /** Which of these people are members of the workspace. */
  async membersAmong(tx: Queryable, ws: string, userIds: string[]): Promise<string[]> {
    const { rows } = await tx.query<{ user_id: string }>('select user_id from memberships where workspace_id = $1 and user_id = any($2::uuid[])', [ws, userIds]);
    return rows.map((r) => r.user_id);
  },

  async insertToken(tx: Queryable, t: { workspaceId: string; name: string; role: Exclude<Role, 'owner'>; hash: Buffer; prefix: string; createdBy: string | null; at: Date }) {
    const { rows } = await tx.query<TokenRow>(
      `insert into api_tokens (workspace_id, name, role, token_hash, prefix, created_by, created_at) values ($1, $2, $3, $4, $5, $6, $7)
       returning id, name, role, prefix, created_at, last_used_at, revoked_at`,
      [t.workspaceId, t.name, t.role, t.hash, t.prefix, t.createdBy, t.at],
    );
    return rows[0];
  },

  async listTokens(tx: Queryable, ws: string) {
    const { rows } = await tx.query<TokenRow>('select id, name, role, prefix, created_at, last_used_at, revoked_at from api_tokens where workspace_id = $1 order by created_at desc, id', [ws]);
    return rows;
  },

  async isAgent(tx: Queryable, ws: string, userId: string): Promise<boolean> {
    const { rowCount } = await tx.query("select 1 from memberships where workspace_id = $1 and user_id = $2 and role in ('owner', 'admin', 'supervisor', 'agent')", [ws, userId]);
    return rowCount === 1;
  },

  /** Revokes the API tokens a person made in a workspace they are leaving. */
  async revokeTokensCreatedBy(tx: Queryable, ws: string, userId: string, at: Date): Promise<void> {
    await tx.query('update api_tokens set revoked_at = $3 where workspace_id = $1 and created_by = $2 and revoked_at is null', [ws, userId, at]);
  },

  /**
   * Names of users (global, by id) and of this workspace's API tokens, in one statement: the authors
   * of a page of messages, whoever connects to realtime.
   */
  async actorNames(tx: Queryable, ws: string, userIds: string[], tokenIds: string[]) {
    const { rows } = await tx.query<{ type: 'user' | 'token'; id: string; name: string }>(
      `select 'user' as type, id, name from users where id = any($2::uuid[])
       union all
       select 'token', id, name from api_tokens where workspace_id = $1 and id = any($3::uuid[])`,
      [ws, userIds, tokenIds],
    );
    return rows;
  },

  /** The display name of a user (an agent's name in a macro); users are global, looked up by id. */
  async userName(tx: Queryable, userId: string): Promise<string | undefined> {
    const { rows } = await tx.query<{ name: string }>('select name from users where id = $1', [userId]);
    return rows[0]?.name;
  },

  async tokenName(tx: Queryable, ws: string, tokenId: string): Promise<string | undefined> {
    const { rows } = await tx.query<{ name: string }>('select name from api_tokens where workspace_id = $1 and id = $2', [ws, tokenId]);
    return rows[0]?.name;
  },

  async revokeToken(tx: Queryable, ws: string, id: string, at: Date) {
    const { rows } = await tx.query<TokenRow & { token_hash: Buffer }>(
      `update api_tokens set revoked_at = coalesce(revoked_at, $3) where workspace_id = $1 and id = $2
       returning id, name, role, prefix, created_at, last_used_at, revoked_at`,
      [ws, id, at],
    );
    return rows[0];
  },
};

export interface TokenRow {
  id: string;
  name: string;
  role: Exclude<Role, 'owner'>;
  prefix: string;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}
