import type { Queryable } from '../../db/pool.js';
import type { Status } from './conversations.schemas.js';

/** SQL behind conversations.channels.ts: the few reads and writes channel adapters need. */
export interface ChannelConversationRow {
  id: string;
  number: string;
  inbox_id: string;
  channel: string;
  customer_id: string;
  customer_name: string | null;
  customer_email: string | null;
  subject: string | null;
  status: string;
}

/** The conversation's own columns; its inbox's channel and its customer come from their owners. */
export type ChannelConversationOwnRow = Omit<ChannelConversationRow, 'channel' | 'customer_name' | 'customer_email'>;

export const channelConversationsRepository = {
  async findConversation(tx: Queryable, ws: string, id: string): Promise<ChannelConversationOwnRow | undefined> {
    const { rows } = await tx.query<ChannelConversationOwnRow>('select id, number, inbox_id, customer_id, subject, status from conversations where workspace_id = $1 and id = $2', [ws, id]);
    return rows[0];
  },

  /** findConversation, locking the row until the transaction ends (a reply's collision check runs after it). */
  async lockConversation(tx: Queryable, ws: string, id: string): Promise<ChannelConversationOwnRow | undefined> {
    const { rows } = await tx.query<ChannelConversationOwnRow>('select id, number, inbox_id, customer_id, subject, status from conversations where workspace_id = $1 and id = $2 for update', [ws, id]);
    return rows[0];
  },

  /** Which of `ids` are messages of the workspace (the attachments collector asks, in a system transaction). */
  async existingMessages(tx: Queryable, ws: string, ids: string[]): Promise<string[]> {
    const { rows } = await tx.query<{ id: string }>('select id from messages where workspace_id = $1 and id = any($2::uuid[])', [ws, ids]);
    return rows.map((r) => r.id);
  },

  /** Which of `ids` are conversations of the workspace. */
  async existingConversations(tx: Queryable, ws: string, ids: string[]): Promise<string[]> {
    const { rows } = await tx.query<{ id: string }>('select id from conversations where workspace_id = $1 and id = any($2::uuid[])', [ws, ids]);
    return rows.map((r) => r.id);
  },

  /** Merges `patch` into metadata[key] (a shallow merge of that one object). */
  async mergeMessageMetadata(tx: Queryable, ws: string, id: string, key: string, patch: Record<string, unknown>): Promise<boolean> {
    const { rowCount } = await tx.query(
      `update messages set metadata = jsonb_set(metadata, array[$3::text], coalesce(metadata -> $3, '{}'::jsonb) || $4::jsonb, true)
       where workspace_id = $1 and id = $2`,
      [ws, id, key, JSON.stringify(patch)],
    );
    return rowCount === 1;
  },

  /** The customer's newest conversation in an inbox that is not closed (chat-like channels thread by it). */
  async latestOpenOfCustomer(tx: Queryable, ws: string, inboxId: string, customerId: string): Promise<string | undefined> {
    const { rows } = await tx.query<{ id: string }>(
      `select id from conversations where workspace_id = $1 and customer_id = $3 and inbox_id = $2 and status <> 'closed'
       order by last_activity_at desc, id desc limit 1`,
      [ws, inboxId, customerId],
    );
    return rows[0]?.id;
  },

  async lockStatus(tx: Queryable, ws: string, id: string): Promise<{ status: Status } | undefined> {
    const { rows } = await tx.query<{ status: Status }>('select status from conversations where workspace_id = $1 and id = $2 for update', [ws, id]);
    return rows[0];
  },

  async reopen(tx: Queryable, ws: string, id: string, at: Date): Promise<void> {
    await tx.query(`update conversations set status = 'open', snoozed_until = null, resolved_at = null, updated_at = $3 where workspace_id = $1 and id = $2`, [ws, id, at]);
  },
};
