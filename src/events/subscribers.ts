import type { Pool } from '../db/pool.js';
import type { Logger } from '../lib/logger.js';
import type { EventFacts, EventType } from './catalogue.js';
import type { DomainEvent } from './events.types.js';

/**
 * A named reaction to events. The dispatcher hands it each event it wants at least once, through a
 * job, so a subscriber that throws is retried with backoff without holding up the others. Because
 * delivery is at-least-once, `handle` must be idempotent.
 *
 * Generic over the types it lists: build one with `defineSubscriber` and `handle` receives
 * `DomainEvent<'message.created'>`, its `data` typed by the catalogue.
 */
export interface Subscriber<T extends EventType = EventType> {
  name: string;
  /** Event types it wants; '*' for all. */
  types: readonly T[] | '*';
  /**
   * Per-conversation order (see dispatcher.ts): this subscriber's deliveries for one conversation run
   * one at a time, in event order, and a failed one holds back the later ones until it succeeds or
   * gives up. For reactions whose result depends on order (SLA timers, webhooks). Costs parallelism
   * within a conversation only.
   */
  ordered?: boolean;
  /** Attempts per event before it is given up (default MAX_DELIVERY_ATTEMPTS, 25): a webhook may want fewer. */
  maxAttempts?: number;
  /**
   * A cheap test on the event's own data, run by the dispatcher before it makes a job, so an event
   * the subscriber would only look at and ignore costs no job (every reply is a message.created,
   * and most are not email). It must not read the database; `handle` still checks everything.
   */
  accepts?(event: EventFacts<T>): boolean;
  handle(event: DomainEvent<T>, ctx: SubscriberContext): Promise<void>;
}

export interface SubscriberContext {
  pool: Pool;
  log: Logger;
  attempt: number;
}

/** Infers the listed types, so `handle` and `accepts` see their payloads typed. */
export function defineSubscriber<const T extends EventType>(subscriber: Subscriber<T>): Subscriber<T> {
  return subscriber;
}

export function wants(subscriber: Subscriber, event: { type: string; data: unknown }): boolean {
  return (subscriber.types === '*' || (subscriber.types as readonly string[]).includes(event.type)) && (subscriber.accepts?.(event as EventFacts) ?? true);
}
