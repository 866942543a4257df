import type { Queryable } from '../db/pool.js';
import type { Actor, DomainEvent, EventType } from './events.types.js';

export interface NewEvent {
  workspaceId: string;
  conversationId?: string | null;
  type: EventType;
  actor: Actor;
  data?: Record<string, unknown>;
  at: Date;
}

/**
 * Writes events in the caller's transaction: the change and its announcement commit together or
 * not at all. The insert trigger NOTIFYs on commit, which wakes the dispatcher and realtime fan-out.
 */
export async function recordEvents(tx: Queryable, events: NewEvent[]): Promise<void> {
  if (events.length === 0) return;
  const values: unknown[] = [];
  const rows = events.map((e, i) => {
    values.push(e.workspaceId, e.conversationId ?? null, e.type, e.actor.type, e.actor.id, JSON.stringify(e.data ?? {}), e.at);
    const o = i * 7;
    return `($${o + 1}, $${o + 2}, $${o + 3}, $${o + 4}, $${o + 5}, $${o + 6}::jsonb, $${o + 7})`;
  });
  await tx.query(
    `insert into events (workspace_id, conversation_id, type, actor_type, actor_id, data, created_at) values ${rows.join(', ')}`,
    values,
  );
}

export interface EventRow {
  id: string;
  workspace_id: string;
  conversation_id: string | null;
  type: string;
  actor_type: Actor['type'];
  actor_id: string | null;
  data: Record<string, unknown>;
  created_at: Date;
}

export function toDomainEvent(row: EventRow): DomainEvent {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    conversationId: row.conversation_id,
    type: row.type,
    actor: { type: row.actor_type, id: row.actor_id },
    data: row.data,
    createdAt: row.created_at,
  };
}
