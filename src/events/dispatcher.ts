import { createHash } from 'node:crypto';
import type { Task } from 'graphile-worker';
import type pg from 'pg';
import type { Pool, Queryable } from '../db/pool.js';
import { withSystem } from '../db/tenancy.js';
import { enqueue } from '../jobs/queue.js';
import type { Logger } from '../lib/logger.js';
import { toDomainEvent, type EventRow } from './outbox.js';
import { wants, type Subscriber } from './subscribers.js';

export const DELIVER_TASK = 'events.deliver';
export const DELIVER_ORDERED_TASK = 'events.deliver_ordered';
const BATCH = 200;
/** Attempts per (event, subscriber) before it is given up: a dead job, or a dead letter when ordered. */
export const MAX_DELIVERY_ATTEMPTS = 25;
/**
 * Ordered jobs of one subscriber share this many graphile-worker named queues, a conversation always
 * landing in the same one: a queue per conversation would leave a queue row per conversation behind.
 */
const ORDERED_QUEUES = 32;

/**
 * Moves committed events from the outbox to their subscribers. Woken by the NOTIFY that each event
 * insert sends at commit, with a slow poll as a safety net (a missed notification is only a delay).
 * Each (event, subscriber) pair becomes one job keyed by both, so a subscriber that fails is retried
 * on its own with backoff, and an event is marked dispatched in the same transaction as its jobs:
 * nothing is handed over twice by the dispatcher, and nothing is lost if it dies half-way.
 *
 * An `ordered` subscriber gets a conversation's events one at a time, lowest event id first, and a
 * failed one is retried before any later one of that conversation is handed over:
 * - the dispatcher records each as a pending delivery (event_deliveries, migration 0090) and wakes the
 *   subscriber's one job for that conversation (job key per conversation; a named queue per hash
 *   bucket, so two jobs of one conversation never run at the same time);
 * - the job takes the lowest pending event; if the handler throws, the event stays first, its attempt
 *   is counted, and the job schedules itself again with backoff (e^attempts s, as graphile-worker
 *   does). graphile-worker's own retry is not used for this: a failed job goes back with a later
 *   run_at and the queue moves on to the next job, which would overtake it.
 * - after MAX_DELIVERY_ATTEMPTS the event becomes a dead letter (failed_at, last_error kept in
 *   event_deliveries, logged as an error) and the later events go on: one poison event does not stop
 *   a conversation for ever.
 * What "order" means: event id order among committed events. The job also waits while an event of the
 * conversation with a lower id is committed but not yet dispatched. A lower id that commits later
 * than a higher one is handed over after it: writers that lock the conversation row (every status,
 * message and assignment change) cannot do that, since the id is taken under the lock.
 * Events without a conversation (customers, macros) are delivered to ordered subscribers unordered.
 */
export class EventDispatcher {
  private listener: pg.PoolClient | null = null;
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private again = false;
  private stopped = false;

  constructor(
    private readonly pool: Pool,
    private readonly subscribers: readonly Subscriber[],
    private readonly log: Logger,
    private readonly pollMs = 1000,
  ) {}

  async start(): Promise<void> {
    this.listener = await this.pool.connect();
    this.listener.on('notification', () => this.kick());
    this.listener.on('error', (error) => this.log.warn({ err: error.message }, 'event listener connection lost'));
    await this.listener.query('listen rapport_events');
    this.timer = setInterval(() => this.kick(), this.pollMs);
    this.kick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.listener) {
      await this.listener.query('unlisten rapport_events').catch(() => {});
      this.listener.release();
      this.listener = null;
    }
    while (this.running) await new Promise((r) => setTimeout(r, 10));
  }

  /** Coalesces wake-ups: one pass at a time, and one more if something arrived during it. */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    void this.drain()
      .catch((error) => this.log.warn({ err: (error as Error).message }, 'event dispatch pass failed; will retry'))
      .finally(() => {
        this.running = false;
        if (this.again && !this.stopped) {
          this.again = false;
          this.kick();
        }
      });
  }

  /** Dispatches until the outbox is empty. Returns how many events it handed over. */
  async drain(): Promise<number> {
    let total = 0;
    while (!this.stopped) {
      const n = await this.dispatchBatch();
      total += n;
      if (n < BATCH) break;
    }
    return total;
  }

  private async dispatchBatch(): Promise<number> {
    return withSystem(this.pool, async (tx) => {
      const { rows } = await tx.query<{ id: string; workspace_id: string; conversation_id: string | null; type: string; data: Record<string, unknown> }>(
        `select id, workspace_id, conversation_id, type, data from events where dispatched_at is null order by id limit ${BATCH} for update skip locked`,
      );
      if (rows.length === 0) return 0;
      for (const row of rows) {
        for (const s of this.subscribers) {
          if (!wants(s, row)) continue;
          if (s.ordered && row.conversation_id) {
            await tx.query('insert into event_deliveries (workspace_id, subscriber, conversation_id, event_id) values ($1, $2, $3, $4) on conflict do nothing', [
              row.workspace_id,
              s.name,
              row.conversation_id,
              row.id,
            ]);
            await wakeOrdered(tx, s.name, row.workspace_id, row.conversation_id, 0, 'preserve_run_at');
          } else {
            await enqueue(tx, DELIVER_TASK, { eventId: row.id, subscriber: s.name }, { jobKey: `event:${row.id}:${s.name}`, maxAttempts: s.maxAttempts ?? MAX_DELIVERY_ATTEMPTS });
          }
        }
      }
      await tx.query('update events set dispatched_at = now() where id = any($1::bigint[])', [rows.map((r) => r.id)]);
      return rows.length;
    });
  }
}

/** The job that hands one event to one subscriber. */
export function deliverTask(pool: Pool, subscribers: readonly Subscriber[], log: Logger): Task {
  const byName = new Map(subscribers.map((s) => [s.name, s]));
  return async (payload, helpers) => {
    const { eventId, subscriber } = payload as { eventId: string; subscriber: string };
    const s = byName.get(subscriber);
    if (!s) {
      log.warn({ subscriber }, 'event for an unknown subscriber dropped');
      return;
    }
    const row = await withSystem(pool, async (tx) => (await tx.query<EventRow>('select * from events where id = $1', [eventId])).rows[0]);
    if (!row) return;
    await s.handle(toDomainEvent(row), { pool, log: log.child({ subscriber: s.name }), attempt: helpers.job.attempts });
  };
}

interface OrderedJob {
  workspaceId: string;
  subscriber: string;
  conversationId: string;
}

/**
 * (Re)schedules the one job that works through a conversation's pending deliveries for a subscriber.
 * Same job key: while it waits, a new event only updates it; while it runs, graphile-worker adds a
 * second one, which the named queue holds until the first is done.
 */
// `preserve_run_at` for the dispatcher's wake: a job waiting out a failed event's backoff keeps its
// start time, so a busy conversation cannot retry a poison event on every new event (found in review).
// The job's own reschedules run while it is locked, where graphile-worker adds a new job either way.
async function wakeOrdered(tx: Queryable, subscriber: string, workspaceId: string, conversationId: string, delaySeconds: number, mode: 'replace' | 'preserve_run_at' = 'replace'): Promise<void> {
  const key = `events.ordered:${subscriber}:${conversationId}`;
  await tx.query(`select graphile_worker.add_job($1, $2::json, queue_name => $3, run_at => now() + $4 * interval '1 second', job_key => $5, max_attempts => $6, job_key_mode => $7)`, [
    DELIVER_ORDERED_TASK,
    JSON.stringify({ workspaceId, subscriber, conversationId } satisfies OrderedJob),
    `events.ordered:${subscriber}:${bucketOf(conversationId)}`,
    delaySeconds,
    key,
    MAX_DELIVERY_ATTEMPTS,
    mode,
  ]);
}

function bucketOf(conversationId: string): number {
  return createHash('sha1').update(conversationId).digest().readUInt32BE(0) % ORDERED_QUEUES;
}

/** The job that hands a conversation's pending events to one ordered subscriber, in event id order. */
export function deliverOrderedTask(pool: Pool, subscribers: readonly Subscriber[], log: Logger): Task {
  const byName = new Map(subscribers.map((s) => [s.name, s]));
  return async (payload) => {
    const { workspaceId, subscriber, conversationId } = payload as OrderedJob;
    const s = byName.get(subscriber);
    if (!s) {
      log.warn({ subscriber }, 'ordered events for an unknown subscriber left pending');
      return;
    }
    const slog = log.child({ subscriber: s.name });
    for (;;) {
      const next = await withSystem(pool, async (tx) => {
        const pending = (
          await tx.query<EventRow & { attempts: number }>(
            `select e.*, d.attempts from event_deliveries d join events e on e.id = d.event_id
              where d.workspace_id = $1 and d.subscriber = $2 and d.conversation_id = $3 and d.failed_at is null
              order by d.event_id limit 1`,
            [workspaceId, subscriber, conversationId],
          )
        ).rows[0];
        if (!pending) return null;
        // A lower id of this conversation committed but not dispatched yet: it goes first. Look again
        // shortly (the dispatcher wakes this job only if this subscriber wants that event).
        const earlier = await tx.query('select 1 from events where workspace_id = $1 and conversation_id = $2 and dispatched_at is null and id < $3 limit 1', [
          workspaceId,
          conversationId,
          pending.id,
        ]);
        if (earlier.rowCount) {
          await wakeOrdered(tx, subscriber, workspaceId, conversationId, 1);
          return null;
        }
        return pending;
      });
      if (!next) return;
      const attempt = next.attempts + 1;
      try {
        await s.handle(toDomainEvent(next), { pool, log: slog, attempt });
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        const dead = attempt >= (s.maxAttempts ?? MAX_DELIVERY_ATTEMPTS);
        await withSystem(pool, async (tx) => {
          await tx.query(
            `update event_deliveries set attempts = $5, last_error = $6, failed_at = case when $7 then now() end
              where workspace_id = $1 and subscriber = $2 and conversation_id = $3 and event_id = $4`,
            [workspaceId, subscriber, conversationId, next.id, attempt, message.slice(0, 1000), dead],
          );
          if (!dead) await wakeOrdered(tx, subscriber, workspaceId, conversationId, Math.exp(Math.min(attempt, 10)));
        });
        if (dead) {
          slog.error({ eventId: next.id, conversationId, err: message }, 'ordered event failed every attempt; kept as a dead letter, later events go on');
          continue;
        }
        slog.warn({ eventId: next.id, conversationId, attempt, err: message }, 'ordered event failed; it is retried before any later event of its conversation');
        return;
      }
      await withSystem(pool, (tx) =>
        tx.query('delete from event_deliveries where workspace_id = $1 and subscriber = $2 and conversation_id = $3 and event_id = $4', [workspaceId, subscriber, conversationId, next.id]),
      );
    }
  };
}
