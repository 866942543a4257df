import type { Queryable } from '../../db/pool.js';

export interface SecurityAlertRow {
  id: string;
  kind: 'password_guessing' | 'password_reset' | 'password_changed';
  created_at: Date;
  details: Record<string, unknown>;
}

/**
 * Sessions and security alerts. Called in a system context (accounts span workspaces); the accounts
 * themselves are the workspaces module's (workspaces.accounts.service.ts).
 */
export const authRepository = {
  async createSession(tx: Queryable, s: { tokenHash: Buffer; userId: string; csrfToken: string; createdAt: Date; expiresAt: Date }): Promise<void> {
    await tx.query('insert into sessions (token_hash, user_id, csrf_token, created_at, expires_at) values ($1, $2, $3, $4, $5)', [s.tokenHash, s.userId, s.csrfToken, s.createdAt, s.expiresAt]);
  },

  /** A live session; whether its account is still enabled is the accounts' to say (see auth.service's liveSession). */
  async findSession(tx: Queryable, tokenHash: Buffer, now: Date) {
    const { rows } = await tx.query<{ user_id: string; csrf_token: string }>('select user_id, csrf_token from sessions where token_hash = $1 and expires_at > $2', [tokenHash, now]);
    return rows[0];
  },

  async deleteSession(tx: Queryable, tokenHash: Buffer): Promise<void> {
    await tx.query('delete from sessions where token_hash = $1', [tokenHash]);
  },

  /** Ends every session of the account except the one with `keepTokenHash` (a password changed from that one); how many. */
  async endOtherSessions(tx: Queryable, userId: string, keepTokenHash: Buffer): Promise<number> {
    const { rowCount } = await tx.query('delete from sessions where user_id = $1 and token_hash <> $2', [userId, keepTokenHash]);
    return rowCount ?? 0;
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
};
