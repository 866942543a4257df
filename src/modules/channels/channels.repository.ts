import type { Queryable } from '../../db/pool.js';
import type { DeliveryStatus } from './channels.registry.js';

/** SQL behind the outbound job and the webhooks: channel_messages (migration 0071). */
export interface ChannelMessageRow {
  id: string;
  inbox_id: string;
  conversation_id: string;
  message_id: string;
  direction: 'inbound' | 'outbound';
  provider_id: string | null;
  status: DeliveryStatus | null;
  error: string | null;
  attempts: number;
  /** When a `channels.send` job took the current attempt (0270); null when none holds it. */
  attempt_started_at: Date | null;
}

const COLUMNS = 'id, inbox_id, conversation_id, message_id, direction, provider_id, status, error, attempts, attempt_started_at';

export const channelsRepository = {
  /** A reply to send; null when an earlier delivery of the same event already queued it. */
  async insertOutbound(tx: Queryable, r: { workspaceId: string; inboxId: string; conversationId: string; messageId: string; at: Date }): Promise<string | null> {
    const { rows } = await tx.query<{ id: string }>(
      `insert into channel_messages (workspace_id, inbox_id, conversation_id, message_id, direction, status, created_at, updated_at)
       values ($1, $2, $3, $4, 'outbound', 'queued', $5, $5) on conflict do nothing returning id`,
      [r.workspaceId, r.inboxId, r.conversationId, r.messageId, r.at],
    );
    return rows[0]?.id ?? null;
  },

  /** Claims a provider's inbound message id; false when it was stored before (a redelivered webhook). */
  async claimInbound(tx: Queryable, r: { workspaceId: string; inboxId: string; conversationId: string; messageId: string; providerId: string; at: Date }): Promise<boolean> {
    const { rowCount } = await tx.query(
      `insert into channel_messages (workspace_id, inbox_id, conversation_id, message_id, direction, provider_id, created_at, updated_at)
       values ($1, $2, $3, $4, 'inbound', $5, $6, $6) on conflict do nothing`,
      [r.workspaceId, r.inboxId, r.conversationId, r.messageId, r.providerId, r.at],
    );
    return rowCount === 1;
  },

  async inboundSeen(tx: Queryable, ws: string, inboxId: string, providerId: string): Promise<boolean> {
    const { rowCount } = await tx.query(`select 1 from channel_messages where workspace_id = $1 and inbox_id = $2 and direction = 'inbound' and provider_id = $3`, [ws, inboxId, providerId]);
    return rowCount === 1;
  },

  async lock(tx: Queryable, ws: string, id: string): Promise<ChannelMessageRow | undefined> {
    const { rows } = await tx.query<ChannelMessageRow>(`select ${COLUMNS} from channel_messages where workspace_id = $1 and id = $2 for update`, [ws, id]);
    return rows[0];
  },

  /** A reply's outbound delivery, locked (one per message); undefined for a message no channel sends. */
  async lockByMessage(tx: Queryable, ws: string, messageId: string): Promise<ChannelMessageRow | undefined> {
    const { rows } = await tx.query<ChannelMessageRow>(`select ${COLUMNS} from channel_messages where workspace_id = $1 and message_id = $2 and direction = 'outbound' for update`, [ws, messageId]);
    return rows[0];
  },

  async lockByProviderId(tx: Queryable, ws: string, inboxId: string, providerId: string): Promise<ChannelMessageRow | undefined> {
    const { rows } = await tx.query<ChannelMessageRow>(`select ${COLUMNS} from channel_messages where workspace_id = $1 and inbox_id = $2 and direction = 'outbound' and provider_id = $3 for update`, [
      ws,
      inboxId,
      providerId,
    ]);
    return rows[0];
  },

  /**
   * Replies still queued long after their next attempt was due (system context, every workspace):
   * their job is gone (it exhausted graphile-worker's attempts, or was lost). Oldest first. A row
   * whose attempt a job claimed since `dueBefore` is being sent: left alone. Partial index 0270.
   */
  async stale(tx: Queryable, dueBefore: Date, limit: number): Promise<{ workspace_id: string; id: string }[]> {
    const { rows } = await tx.query<{ workspace_id: string; id: string }>(
      `select workspace_id, id from channel_messages
       where direction = 'outbound' and status = 'queued' and coalesce(next_attempt_at, updated_at) < $1
         and (attempt_started_at is null or attempt_started_at < $1)
       order by coalesce(next_attempt_at, updated_at) limit $2`,
      [dueBefore, limit],
    );
    return rows;
  },

  async createdAt(tx: Queryable, ws: string, id: string): Promise<Date | undefined> {
    const { rows } = await tx.query<{ created_at: Date }>('select created_at from channel_messages where workspace_id = $1 and id = $2', [ws, id]);
    return rows[0]?.created_at;
  },

  /** A swept reply's new attempt is due now: the next sweep leaves it alone until it is stale again. */
  async setNextAttempt(tx: Queryable, ws: string, id: string, at: Date): Promise<void> {
    await tx.query('update channel_messages set next_attempt_at = $3 where workspace_id = $1 and id = $2', [ws, id, at]);
  },

  /** The job takes the current attempt, under the row lock (see 0270). */
  async claimAttempt(tx: Queryable, ws: string, id: string, at: Date): Promise<void> {
    await tx.query('update channel_messages set attempt_started_at = $3 where workspace_id = $1 and id = $2', [ws, id, at]);
  },

  /** A receipt for a provider id no reply holds yet (channel_early_receipts, 0240); one per status. */
  async keepEarlyReceipt(tx: Queryable, r: { workspaceId: string; inboxId: string; providerId: string; status: string; reason: string | null; at: Date }): Promise<void> {
    await tx.query(
      `insert into channel_early_receipts (workspace_id, inbox_id, provider_id, status, reason, received_at)
       values ($1, $2, $3, $4, $5, $6) on conflict do nothing`,
      [r.workspaceId, r.inboxId, r.providerId, r.status, r.reason, r.at],
    );
  },

  /** Removes and returns the receipts kept for a provider id, in the order they arrived. */
  async takeEarlyReceipts(tx: Queryable, ws: string, inboxId: string, providerId: string): Promise<{ status: Exclude<DeliveryStatus, 'queued'>; reason: string | null }[]> {
    const { rows } = await tx.query<{ status: Exclude<DeliveryStatus, 'queued'>; reason: string | null; received_at: Date }>(
      'delete from channel_early_receipts where workspace_id = $1 and inbox_id = $2 and provider_id = $3 returning status, reason, received_at',
      [ws, inboxId, providerId],
    );
    return rows.sort((a, b) => a.received_at.getTime() - b.received_at.getTime());
  },

  /**
   * System context: kept receipts whose provider id a reply now holds. A webhook that read while the
   * job's transaction recording that id was not yet committed kept its receipt after the job had
   * looked for receipts: the sweeper applies these.
   */
  async matchedEarlyReceipts(tx: Queryable, limit: number): Promise<{ workspace_id: string; inbox_id: string; provider_id: string }[]> {
    const { rows } = await tx.query<{ workspace_id: string; inbox_id: string; provider_id: string }>(
      `select distinct e.workspace_id, e.inbox_id, e.provider_id from channel_early_receipts e
       join channel_messages m on m.workspace_id = e.workspace_id and m.inbox_id = e.inbox_id and m.direction = 'outbound' and m.provider_id = e.provider_id
       limit $1`,
      [limit],
    );
    return rows;
  },

  /** System context: receipts that never found their reply. */
  async purgeEarlyReceipts(tx: Queryable, before: Date): Promise<number> {
    const { rowCount } = await tx.query('delete from channel_early_receipts where received_at < $1', [before]);
    return rowCount ?? 0;
  },

  /**
   * Claims a webhook delivery (channel_webhook_deliveries, 0261): false when it was taken before. A
   * concurrent copy waits on the key until the first one's transaction ends, then finds it taken.
   */
  async claimWebhookDelivery(tx: Queryable, d: { workspaceId: string; inboxId: string; key: string; at: Date }): Promise<boolean> {
    const { rowCount } = await tx.query(
      `insert into channel_webhook_deliveries (workspace_id, inbox_id, delivery_key, received_at)
       values ($1, $2, $3, $4) on conflict do nothing`,
      [d.workspaceId, d.inboxId, d.key, d.at],
    );
    return rowCount === 1;
  },

  /** System context: delivery keys past the replay window's use. */
  async purgeWebhookDeliveries(tx: Queryable, before: Date): Promise<number> {
    const { rowCount } = await tx.query('delete from channel_webhook_deliveries where received_at < $1', [before]);
    return rowCount ?? 0;
  },

  async update(
    tx: Queryable,
    ws: string,
    id: string,
    p: { status: DeliveryStatus; error: string | null; attempts?: number; providerId?: string | null; nextAttemptAt?: Date | null; at: Date },
  ): Promise<void> {
    await tx.query(
      `update channel_messages set status = $3, error = $4, attempts = coalesce($5, attempts), provider_id = coalesce($6, provider_id),
         next_attempt_at = $7, updated_at = $8, attempt_started_at = null
       where workspace_id = $1 and id = $2`,
      [ws, id, p.status, p.error, p.attempts ?? null, p.providerId ?? null, p.nextAttemptAt ?? null, p.at],
    );
  },
};
