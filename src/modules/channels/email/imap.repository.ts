import type { Queryable } from '../../../db/pool.js';

/**
 * The SQL of the IMAP mailbox leases (0150): which instance polls which mailbox, and when it is due.
 * All of it runs in a system context: the poller serves every workspace.
 *
 * Every time here is the database's (`now()`), never an instance's clock: two instances whose clocks
 * disagree would otherwise each judge a lease by their own time, and the one running ahead would take
 * a mailbox the other still holds (found in review). Instances pass durations; the database adds them.
 */
export interface ClaimedMailbox {
  workspace_id: string;
  inbox_id: string;
  settings: Record<string, unknown>;
}

export const imapLeaseRepository = {
  /**
   * Claims up to `limit` due mailboxes whose lease is free or expired, for `holder`, for `leaseMs`. Mailboxes that
   * gained an IMAP account since the last call get their row first (due at once); a disabled inbox is
   * never claimed (its mail stays on the server until it is enabled again). SKIP LOCKED: two
   * instances claiming at the same moment get different mailboxes, never the same one.
   */
  async claimDue(tx: Queryable, holder: string, leaseMs: number, limit: number): Promise<ClaimedMailbox[]> {
    await tx.query(
      `insert into email_imap_leases (workspace_id, inbox_id, next_poll_at)
       select i.workspace_id, i.id, now() from inboxes i
        where i.channel = 'email' and jsonb_typeof(i.settings -> 'imap') = 'object'
          and not exists (select 1 from email_imap_leases l where l.workspace_id = i.workspace_id and l.inbox_id = i.id)
       on conflict do nothing`,
    );
    const { rows } = await tx.query<ClaimedMailbox>(
      `update email_imap_leases l set holder = $1, held_until = now() + make_interval(secs => $2::float8 / 1000)
         from (select l2.workspace_id, l2.inbox_id, i.settings
                 from email_imap_leases l2
                 join inboxes i on i.workspace_id = l2.workspace_id and i.id = l2.inbox_id
                where l2.next_poll_at <= now() and (l2.held_until is null or l2.held_until <= now())
                  and i.channel = 'email' and jsonb_typeof(i.settings -> 'imap') = 'object' and i.disabled_at is null
                order by l2.next_poll_at
                limit $3
                for update of l2 skip locked) due
        where l.workspace_id = due.workspace_id and l.inbox_id = due.inbox_id
       returning l.workspace_id, l.inbox_id, due.settings`,
      [holder, leaseMs, limit],
    );
    return rows;
  },

  /**
   * Extends the leases of the mailboxes `holder` is polling, and only those: a lease whose release
   * failed is not renewed for ever by the heartbeat, so it expires and the mailbox is polled again
   * (found in review). Returns the ones still held (a lost one is missing).
   */
  async renew(tx: Queryable, holder: string, leaseMs: number, mailboxes: { workspaceId: string; inboxId: string }[]): Promise<{ workspace_id: string; inbox_id: string }[]> {
    const { rows } = await tx.query<{ workspace_id: string; inbox_id: string }>(
      `update email_imap_leases set held_until = now() + make_interval(secs => $2::float8 / 1000)
        where holder = $1 and (workspace_id, inbox_id) in (select * from unnest($3::uuid[], $4::uuid[]))
       returning workspace_id, inbox_id`,
      [holder, leaseMs, mailboxes.map((m) => m.workspaceId), mailboxes.map((m) => m.inboxId)],
    );
    return rows;
  },

  /** Frees the lease, if `holder` still holds it; the mailbox is due again `nextPollInMs` from now. */
  async release(tx: Queryable, holder: string, ws: string, inboxId: string, nextPollInMs: number): Promise<boolean> {
    const { rowCount } = await tx.query(
      `update email_imap_leases set holder = null, held_until = null, next_poll_at = now() + make_interval(secs => $4::float8 / 1000)
        where workspace_id = $2 and inbox_id = $3 and holder = $1`,
      [holder, ws, inboxId, nextPollInMs],
    );
    return rowCount === 1;
  },
};
