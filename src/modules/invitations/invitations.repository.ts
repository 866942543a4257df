import type { Queryable } from '../../db/pool.js';
import type { Role } from '../auth/roles.js';

export interface InvitationRow {
  workspace_id: string;
  id: string;
  email: string;
  role: Role;
  invited_by: string | null;
  created_at: Date;
  expires_at: Date;
}

const COLUMNS = 'workspace_id, id, email, role, invited_by, created_at, expires_at';

/** Invitations' SQL. `claimable` and `markAccepted` run in a system context (the token names the workspace). */
export const invitationsRepository = {
  async insert(tx: Queryable, i: { workspaceId: string; email: string; role: Role; tokenHash: Buffer; invitedBy: string | null; at: Date; expiresAt: Date }): Promise<InvitationRow> {
    const { rows } = await tx.query<InvitationRow>(
      `insert into invitations (workspace_id, email, role, token_hash, invited_by, created_at, expires_at) values ($1, $2, $3, $4, $5, $6, $7) returning ${COLUMNS}`,
      [i.workspaceId, i.email, i.role, i.tokenHash, i.invitedBy, i.at, i.expiresAt],
    );
    return rows[0];
  },

  async listPending(tx: Queryable, ws: string, now: Date): Promise<InvitationRow[]> {
    const { rows } = await tx.query<InvitationRow>(
      `select ${COLUMNS} from invitations where workspace_id = $1 and accepted_at is null and revoked_at is null and expires_at > $2 order by created_at desc, id`,
      [ws, now],
    );
    return rows;
  },

  async revoke(tx: Queryable, ws: string, id: string, now: Date): Promise<boolean> {
    const { rowCount } = await tx.query('update invitations set revoked_at = $3 where workspace_id = $1 and id = $2 and accepted_at is null and revoked_at is null and expires_at > $3', [ws, id, now]);
    return rowCount === 1;
  },

  /** The invitation a token opens, if it is still usable (unused, not revoked, not expired); `lock` claims it. */
  async claimable(tx: Queryable, tokenHash: Buffer, now: Date, lock = true): Promise<InvitationRow | undefined> {
    const { rows } = await tx.query<InvitationRow>(
      `select ${COLUMNS} from invitations where token_hash = $1 and accepted_at is null and revoked_at is null and expires_at > $2${lock ? ' for update' : ''}`,
      [tokenHash, now],
    );
    return rows[0];
  },

  async markAccepted(tx: Queryable, ws: string, id: string, userId: string, now: Date): Promise<void> {
    await tx.query('update invitations set accepted_at = $3, accepted_by = $4 where workspace_id = $1 and id = $2', [ws, id, now, userId]);
  },
};
