import type { Queryable } from '../db/pool.js';
import { CLIENT_TIMELINE_TYPES } from './audiences.js';
import type { EventRow } from './outbox.js';

/**
 * Reads of the `events` table for other modules (the events module owns it): the conversation
 * timeline and the realtime hub's batches, replays and catch-up. Each takes the caller's
 * transaction (or connection), so the caller decides the context: a workspace transaction for the
 * timeline and a replay, a system one for the hub's reads across workspaces.
 */

const COLUMNS = 'id, workspace_id, conversation_id, type, actor_type, actor_id, data, created_at';

/**
 * A conversation's timeline after `afterId`, oldest first. `clients` (a client viewer) gets only the
 * event types client viewers may see (audiences.ts) and no event about an internal note: filtered in
 * SQL, so pages stay full.
 */
export async function conversationTimeline(
  tx: Queryable,
  ws: string,
  conversationId: string,
  opts: { limit: number; afterId?: string; exclude: string[]; audience: 'agents' | 'clients' },
): Promise<EventRow[]> {
  const params: unknown[] = [ws, conversationId, opts.afterId ?? '0', opts.limit, opts.exclude];
  let audience = '';
  if (opts.audience === 'clients') {
    audience = `and type = any($6::text[]) and coalesce(data->>'messageType', '') <> 'note'`;
    params.push(CLIENT_TIMELINE_TYPES);
  }
  const { rows } = await tx.query<EventRow>(
    `select ${COLUMNS} from events
     where workspace_id = $1 and conversation_id = $2 and id > $3 and type <> all($5::text[]) ${audience} order by id limit $4`,
    params,
  );
  return rows;
}

/** The highest event id recorded (system context: across workspaces). */
export async function maxEventId(tx: Queryable): Promise<string> {
  const { rows } = await tx.query<{ id: string | null }>('select max(id) as id from events');
  return rows[0].id ?? '0';
}

/** These events (system context), oldest first: one query for a batch the realtime hub heard of. */
export async function eventsByIds(tx: Queryable, ids: string[]): Promise<EventRow[]> {
  const { rows } = await tx.query<EventRow>(`select ${COLUMNS} from events where id = any($1::bigint[]) order by id`, [ids]);
  return rows;
}

/** Ids and workspaces committed after `afterId` (system context: catch-up after the LISTEN connection was lost). */
export async function eventIdsAfter(tx: Queryable, afterId: string, limit: number): Promise<Array<{ id: string; workspace_id: string }>> {
  const { rows } = await tx.query<{ id: string; workspace_id: string }>('select id, workspace_id from events where id > $1 order by id limit $2', [afterId, limit]);
  return rows;
}

/**
 * One workspace's events in (afterId, upToId], oldest first (index events_workspace_id_idx); with
 * `conversationIds`, only the events of those conversations (a customer's replay: a busy workspace
 * must not push it past the replay limit).
 */
export async function workspaceEventsBetween(tx: Queryable, ws: string, afterId: string, upToId: string, limit: number, conversationIds?: string[]): Promise<EventRow[]> {
  const params: unknown[] = [ws, afterId, upToId, limit];
  let only = '';
  if (conversationIds) {
    params.push(conversationIds);
    only = 'and conversation_id = any($5::uuid[])';
  }
  const { rows } = await tx.query<EventRow>(`select ${COLUMNS} from events where workspace_id = $1 and id > $2 and id <= $3 ${only} order by id limit $4`, params);
  return rows;
}
