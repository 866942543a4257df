import type { Pool } from '../db/pool.js';
import type { Logger } from '../lib/logger.js';
import type { DomainEvent } from './events.types.js';

/**
 * A named reaction to events. The dispatcher hands it each event it wants at least once, through a
 * job, so a subscriber that throws is retried with backoff without holding up the others. Because
 * delivery is at-least-once, `handle` must be idempotent.
 */
export interface Subscriber {
  name: string;
  /** Event types it wants; '*' for all. */
  types: readonly string[] | '*';
  /**
   * A cheap test on the event's own data, run by the dispatcher before it makes a job, so an event
   * the subscriber would only look at and ignore costs no job (every reply is a message.created,
   * and most are not email). It must not read the database; `handle` still checks everything.
   */
  accepts?: (event: { type: string; data: Record<string, unknown> }) => boolean;
  handle(event: DomainEvent, ctx: SubscriberContext): Promise<void>;
}

export interface SubscriberContext {
  pool: Pool;
  log: Logger;
  attempt: number;
}

export function wants(subscriber: Subscriber, event: { type: string; data: Record<string, unknown> }): boolean {
  return (subscriber.types === '*' || subscriber.types.includes(event.type)) && (subscriber.accepts?.(event) ?? true);
}
