import { Compile, type Validator } from 'typebox/compile';
import type { Queryable } from '../db/pool.js';
import type { FieldError } from '../lib/errors.js';
import { eventCatalogue, isEventType, type EventData, type EventType } from './catalogue.js';
import { eventErrors } from './events.errors.js';
import type { Actor, DomainEvent } from './events.types.js';

/** An event of one type about to be recorded; its `data` is that type's payload. */
export interface NewEventOf<T extends EventType> {
  workspaceId: string;
  conversationId?: string | null;
  type: T;
  actor: Actor;
  data: EventData<T>;
  at: Date;
}

/** An event about to be recorded: a union over the catalogue, so a wrong payload is a compile error. */
export type NewEvent<T extends EventType = EventType> = { [K in T]: NewEventOf<K> }[T];

/**
 * Builds one event for code that collects several in a list before recording them: the payload is
 * checked against the literal type at compile time (a union-typed list alone would accept any
 * member's payload once `type` is a variable).
 */
export function newEvent<T extends EventType>(event: NewEventOf<T>): NewEvent {
  return event as unknown as NewEvent;
}

// Compiled once per type, on first use: checking a payload is then a few property tests.
const validators = new Map<string, Validator>();

function validatorFor(type: EventType): Validator {
  let v = validators.get(type);
  if (!v) {
    v = Compile(eventCatalogue[type].data);
    validators.set(type, v);
  }
  return v;
}

/**
 * Refuses an event the catalogue does not describe. Always on, not only in tests: a payload that does
 * not fit would reach subscribers, webhooks and the web app, and the cost is one compiled check.
 */
export function checkEvent(event: { type: string; data: unknown; conversationId?: string | null }): void {
  if (!isEventType(event.type)) throw eventErrors.unknownType(`no event type ${event.type} in the catalogue`);
  const errors: FieldError[] = [];
  if (eventCatalogue[event.type].scope === 'conversation' && !event.conversationId) {
    errors.push({ path: 'conversationId', message: 'a conversation event needs its conversation' });
  }
  const v = validatorFor(event.type);
  if (!v.Check(event.data)) {
    for (const e of v.Errors(event.data)) errors.push({ path: `data${e.instancePath.replace(/\//g, '.')}`, message: e.message });
  }
  if (errors.length > 0) {
    throw eventErrors.invalidPayload(`${event.type}: ${errors.map((e) => `${e.path} ${e.message}`).join('; ')}`, { errors });
  }
}

/**
 * Writes events in the caller's transaction: the change and its announcement commit together or
 * not at all. Each is checked against the catalogue first, so a wrong one fails the change. The
 * insert trigger NOTIFYs on commit, which wakes the dispatcher and realtime fan-out.
 */
export async function recordEvents(tx: Queryable, events: readonly NewEvent[]): Promise<void> {
  if (events.length === 0) return;
  for (const e of events) checkEvent(e);
  const values: unknown[] = [];
  const rows = events.map((e, i) => {
    values.push(e.workspaceId, e.conversationId ?? null, e.type, e.actor.type, e.actor.id, JSON.stringify(e.data), e.at);
    const o = i * 7;
    return `($${o + 1}, $${o + 2}, $${o + 3}, $${o + 4}, $${o + 5}, $${o + 6}::jsonb, $${o + 7})`;
  });
  await tx.query(`insert into events (workspace_id, conversation_id, type, actor_type, actor_id, data, created_at) values ${rows.join(', ')}`, values);
}

/**
 * One event checked against the catalogue and serialized for a caller that inserts it inside its own
 * data-modifying statement (a CTE that writes the change and its events in one round trip): the
 * same check recordEvents makes, so a statement never writes an event the catalogue would refuse.
 */
export function eventForStatement(e: NewEvent): { type: string; actorType: string; actorId: string | null; data: string } {
  checkEvent(e);
  return { type: e.type, actorType: e.actor.type, actorId: e.actor.id, data: JSON.stringify(e.data) };
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

/** A stored row as a typed event: its payload was checked when it was recorded. */
export function toDomainEvent(row: EventRow): DomainEvent {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    conversationId: row.conversation_id,
    type: row.type,
    actor: { type: row.actor_type, id: row.actor_id },
    data: row.data,
    createdAt: row.created_at,
  } as DomainEvent;
}
