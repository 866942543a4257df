import type { Queryable } from '../../db/pool.js';

/**
 * Password reset links and the sessions a reset ends. Called in a system context (accounts are not a
 * tenant's); the account itself (its password, its tokens) changes through the workspaces module.
 */
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
    const { rows } = await tx.query<{ user_id: string }>(`select user_id from password_resets where token_hash = $1 and used_at is null and expires_at > $2 ${lock ? 'for update' : ''}`, [
      tokenHash,
      now,
    ]);
    return rows[0];
  },

  async markUsed(tx: Queryable, userId: string, at: Date): Promise<void> {
    await tx.query('update password_resets set used_at = $2 where user_id = $1', [userId, at]);
  },

  async endSessions(tx: Queryable, userId: string): Promise<number> {
    const { rowCount } = await tx.query('delete from sessions where user_id = $1', [userId]);
    return rowCount ?? 0;
  },
};
