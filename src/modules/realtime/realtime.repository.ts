import type { Queryable } from '../../db/pool.js';
import type { EventRow } from '../../events/outbox.js';

/** The realtime module's SQL. Event look-ups cross workspaces (one batch per instance): system context. */
export const realtimeRepository = {
  async maxEventId(tx: Queryable): Promise<string> {
    const { rows } = await tx.query<{ id: string | null }>('select max(id) as id from events');
    return rows[0].id ?? '0';
  },

  async eventsByIds(tx: Queryable, ids: string[]): Promise<EventRow[]> {
    const { rows } = await tx.query<EventRow>(
      `select id, workspace_id, conversation_id, type, actor_type, actor_id, data, created_at
       from events where id = any($1::bigint[]) order by id`,
      [ids],
    );
    return rows;
  },

  /** Ids and workspaces committed after `afterId` (catch-up after the LISTEN connection was lost). */
  async eventIdsAfter(tx: Queryable, afterId: string, limit: number): Promise<Array<{ id: string; workspace_id: string }>> {
    const { rows } = await tx.query<{ id: string; workspace_id: string }>(
      'select id, workspace_id from events where id > $1 order by id limit $2',
      [afterId, limit],
    );
    return rows;
  },

  /** One workspace's events in (afterId, upToId], oldest first (index events_workspace_id_idx). */
  async workspaceEventsBetween(tx: Queryable, ws: string, afterId: string, upToId: string, limit: number): Promise<EventRow[]> {
    const { rows } = await tx.query<EventRow>(
      `select id, workspace_id, conversation_id, type, actor_type, actor_id, data, created_at
       from events where workspace_id = $1 and id > $2 and id <= $3 order by id limit $4`,
      [ws, afterId, upToId, limit],
    );
    return rows;
  },

  async conversationExists(tx: Queryable, ws: string, id: string): Promise<boolean> {
    const { rowCount } = await tx.query('select 1 from conversations where workspace_id = $1 and id = $2', [ws, id]);
    return rowCount === 1;
  },

  async userName(tx: Queryable, userId: string): Promise<string | undefined> {
    const { rows } = await tx.query<{ name: string }>('select name from users where id = $1', [userId]);
    return rows[0]?.name;
  },

  async tokenName(tx: Queryable, ws: string, tokenId: string): Promise<string | undefined> {
    const { rows } = await tx.query<{ name: string }>('select name from api_tokens where workspace_id = $1 and id = $2', [ws, tokenId]);
    return rows[0]?.name;
  },

  async notify(tx: Queryable, channel: 'rapport_presence', payload: string): Promise<void> {
    await tx.query('select pg_notify($1, $2)', [channel, payload]);
  },
};
