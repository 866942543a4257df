import type { Queryable } from '../../db/pool.js';

export interface NotificationRow {
  id: string;
  user_id: string;
  kind: string;
  conversation_id: string | null;
  conversation_number: number | null;
  actor_type: string;
  actor_id: string | null;
  actor_name: string | null;
  excerpt: string;
  created_at: Date;
  read_at: Date | null;
  emailed_at: Date | null;
}

export interface NewNotification {
  userId: string;
  kind: string;
  conversationId: string | null;
  conversationNumber: number | null;
  actor: { type: string; id: string | null; name: string | null };
  excerpt: string;
  sourceEventId: string;
  at: Date;
}

const COLUMNS = 'id, user_id, kind, conversation_id, conversation_number, actor_type, actor_id, actor_name, excerpt, created_at, read_at, emailed_at';

/** The only SQL for notifications and their preferences. Every statement names workspace_id. */
export const notificationsRepository = {
  /** Undefined when this person was already notified of this event (a redelivery). */
  async insert(tx: Queryable, ws: string, n: NewNotification): Promise<NotificationRow | undefined> {
    const { rows } = await tx.query<NotificationRow>(
      `insert into notifications (workspace_id, user_id, kind, conversation_id, conversation_number, actor_type, actor_id, actor_name, excerpt, source_event_id, created_at)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
       on conflict (workspace_id, user_id, source_event_id) do nothing returning ${COLUMNS}`,
      [ws, n.userId, n.kind, n.conversationId, n.conversationNumber, n.actor.type, n.actor.id, n.actor.name, n.excerpt, n.sourceEventId, n.at],
    );
    return rows[0];
  },

  /** A page of one person's notifications, newest first, after the keyset (created_at, id). */
  async list(tx: Queryable, ws: string, userId: string, q: { limit: number; after: [string, string] | null; unreadOnly: boolean }): Promise<NotificationRow[]> {
    const params: unknown[] = [ws, userId, q.limit];
    let where = '';
    if (q.after) {
      params.push(q.after[0], q.after[1]);
      where += ' and (created_at, id) < ($4::timestamptz, $5::uuid)';
    }
    if (q.unreadOnly) where += ' and read_at is null';
    const { rows } = await tx.query<NotificationRow>(`select ${COLUMNS} from notifications where workspace_id = $1 and user_id = $2${where} order by created_at desc, id desc limit $3`, params);
    return rows;
  },

  async unreadCount(tx: Queryable, ws: string, userId: string): Promise<number> {
    const { rows } = await tx.query<{ n: number }>('select count(*)::int as n from notifications where workspace_id = $1 and user_id = $2 and read_at is null', [ws, userId]);
    return rows[0].n;
  },

  async find(tx: Queryable, ws: string, id: string): Promise<NotificationRow | undefined> {
    const { rows } = await tx.query<NotificationRow>(`select ${COLUMNS} from notifications where workspace_id = $1 and id = $2`, [ws, id]);
    return rows[0];
  },

  /** Marks one of this person's notifications read (kept as first read); undefined when it is not theirs. */
  async markRead(tx: Queryable, ws: string, userId: string, id: string, at: Date): Promise<{ row: NotificationRow; changed: boolean } | undefined> {
    const { rows } = await tx.query<NotificationRow & { changed: boolean }>(
      `update notifications set read_at = coalesce(read_at, $4) where workspace_id = $1 and user_id = $2 and id = $3
       returning ${COLUMNS}, (read_at = $4) as changed`,
      [ws, userId, id, at],
    );
    if (!rows[0]) return undefined;
    const { changed, ...row } = rows[0];
    return { row, changed };
  },

  /** Marks this person's unread notifications read: all of them, or those about one conversation. */
  async markAllRead(tx: Queryable, ws: string, userId: string, at: Date, conversationId: string | null): Promise<number> {
    const { rowCount } = await tx.query('update notifications set read_at = $3 where workspace_id = $1 and user_id = $2 and read_at is null and ($4::uuid is null or conversation_id = $4)', [
      ws,
      userId,
      at,
      conversationId,
    ]);
    return rowCount ?? 0;
  },

  async markEmailed(tx: Queryable, ws: string, id: string, at: Date): Promise<void> {
    await tx.query('update notifications set emailed_at = $3 where workspace_id = $1 and id = $2', [ws, id, at]);
  },

  async emailKinds(tx: Queryable, ws: string, userId: string): Promise<string[]> {
    const { rows } = await tx.query<{ email_kinds: string[] }>('select email_kinds from notification_preferences where workspace_id = $1 and user_id = $2', [ws, userId]);
    return rows[0]?.email_kinds ?? [];
  },

  async setEmailKinds(tx: Queryable, ws: string, userId: string, kinds: string[], at: Date): Promise<void> {
    await tx.query(
      `insert into notification_preferences (workspace_id, user_id, email_kinds, updated_at) values ($1, $2, $3, $4)
       on conflict (workspace_id, user_id) do update set email_kinds = excluded.email_kinds, updated_at = excluded.updated_at`,
      [ws, userId, kinds, at],
    );
  },
};
