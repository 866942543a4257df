import type { Queryable } from '../../db/pool.js';

/** Password reset links and what a reset changes on the account. Called in a system context (accounts are not a tenant's). */
export const passwordResetRepository = {
  /** One live link per account: a newer one replaces the older (its hash no longer matches anything). */
  async replaceLink(tx: Queryable, r: { userId: string; tokenHash: Buffer; createdAt: Date; expiresAt: Date }): Promise<void> {
    await tx.query(
      `insert into password_resets (user_id, token_hash, created_at, expires_at) values ($1, $2, $3, $4)
       on conflict (user_id) do update set token_hash = excluded.token_hash, created_at = excluded.created_at, expires_at = excluded.expires_at, used_at = null`,
      [r.userId, r.tokenHash, r.createdAt, r.expiresAt],
    );
  },

  /** The account a live (unused, unexpired) link opens; `lock` holds the link until the transaction ends. */
  async liveLink(tx: Queryable, tokenHash: Buffer, now: Date, lock = false) {
    const { rows } = await tx.query<{ user_id: string; email: string; name: string }>(
      `select r.user_id, u.email, u.name from password_resets r join users u on u.id = r.user_id
        where r.token_hash = $1 and r.used_at is null and r.expires_at > $2 and u.disabled_at is null
        ${lock ? 'for update of r' : ''}`,
      [tokenHash, now],
    );
    return rows[0];
  },

  async markUsed(tx: Queryable, userId: string, at: Date): Promise<void> {
    await tx.query('update password_resets set used_at = $2 where user_id = $1', [userId, at]);
  },

  async setPassword(tx: Queryable, userId: string, passwordHash: string): Promise<void> {
    await tx.query('update users set password_hash = $2 where id = $1', [userId, passwordHash]);
  },

  async endSessions(tx: Queryable, userId: string): Promise<number> {
    const { rowCount } = await tx.query('delete from sessions where user_id = $1', [userId]);
    return rowCount ?? 0;
  },

  /** Every live API token the account created, in every workspace. */
  async revokeTokensCreatedBy(tx: Queryable, userId: string, at: Date): Promise<number> {
    const { rowCount } = await tx.query('update api_tokens set revoked_at = $2 where created_by = $1 and revoked_at is null', [userId, at]);
    return rowCount ?? 0;
  },
};
