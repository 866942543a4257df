import type { Queryable } from '../../db/pool.js';
import type { AudienceEventRow } from './realtime.hub.js';

/** The realtime module's SQL. Event look-ups cross workspaces (one batch per instance): system context. */
export const realtimeRepository = {
  async maxEventId(tx: Queryable): Promise<string> {
    const { rows } = await tx.query<{ id: string | null }>('select max(id) as id from events');
    return rows[0].id ?? '0';
  },

  /** The events, each with its conversation's customer (a primary-key probe) so the hub can route it to that customer's sockets. */
  async eventsByIds(tx: Queryable, ids: string[]): Promise<AudienceEventRow[]> {
    const { rows } = await tx.query<AudienceEventRow>(
      `select e.id, e.workspace_id, e.conversation_id, e.type, e.actor_type, e.actor_id, e.data, e.created_at,
         (select c.customer_id from conversations c where c.workspace_id = e.workspace_id and c.id = e.conversation_id) as customer_id
       from events e where e.id = any($1::bigint[]) order by e.id`,
      [ids],
    );
    return rows;
  },

  /** Ids and workspaces committed after `afterId` (catch-up after the LISTEN connection was lost). */
  async eventIdsAfter(tx: Queryable, afterId: string, limit: number): Promise<Array<{ id: string; workspace_id: string }>> {
    const { rows } = await tx.query<{ id: string; workspace_id: string }>('select id, workspace_id from events where id > $1 order by id limit $2', [afterId, limit]);
    return rows;
  },

  /**
   * One workspace's events in (afterId, upToId], oldest first (index events_workspace_id_idx); with
   * `customerId`, only the events of that customer's conversations (so a busy workspace does not
   * push a customer's resume past the replay limit).
   */
  async workspaceEventsBetween(tx: Queryable, ws: string, afterId: string, upToId: string, limit: number, customerId?: string): Promise<AudienceEventRow[]> {
    const params: unknown[] = [ws, afterId, upToId, limit];
    let mine = '';
    if (customerId) {
      params.push(customerId);
      mine = 'and e.conversation_id in (select c.id from conversations c where c.workspace_id = $1 and c.customer_id = $5)';
    }
    const { rows } = await tx.query<AudienceEventRow>(
      `select e.id, e.workspace_id, e.conversation_id, e.type, e.actor_type, e.actor_id, e.data, e.created_at,
         (select c.customer_id from conversations c where c.workspace_id = e.workspace_id and c.id = e.conversation_id) as customer_id
       from events e where e.workspace_id = $1 and e.id > $2 and e.id <= $3 ${mine} order by e.id limit $4`,
      params,
    );
    return rows;
  },

  async notify(tx: Queryable, channel: 'rapport_presence', payload: string): Promise<void> {
    await tx.query('select pg_notify($1, $2)', [channel, payload]);
  },
};
