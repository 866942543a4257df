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
  handle(event: DomainEvent, ctx: SubscriberContext): Promise<void>;
}

export interface SubscriberContext {
  pool: Pool;
  log: Logger;
  attempt: number;
}

export function wants(subscriber: Subscriber, type: string): boolean {
  return subscriber.types === '*' || subscriber.types.includes(type);
}
