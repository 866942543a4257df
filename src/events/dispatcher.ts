import type { Task } from 'graphile-worker';
import type pg from 'pg';
import type { Pool } from '../db/pool.js';
import { withSystem } from '../db/tenancy.js';
import { enqueue } from '../jobs/queue.js';
import type { Logger } from '../lib/logger.js';
import { toDomainEvent, type EventRow } from './outbox.js';
import { wants, type Subscriber } from './subscribers.js';

export const DELIVER_TASK = 'events.deliver';
const BATCH = 200;

/**
 * Moves committed events from the outbox to their subscribers. Woken by the NOTIFY that each event
 * insert sends at commit, with a slow poll as a safety net (a missed notification is only a delay).
 * Each (event, subscriber) pair becomes one job keyed by both, so a subscriber that fails is retried
 * on its own with backoff, and an event is marked dispatched in the same transaction as its jobs:
 * nothing is handed over twice by the dispatcher, and nothing is lost if it dies half-way.
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
      const { rows } = await tx.query<{ id: string; type: string; data: Record<string, unknown> }>(
        `select id, type, data from events where dispatched_at is null order by id limit ${BATCH} for update skip locked`,
      );
      if (rows.length === 0) return 0;
      for (const row of rows) {
        for (const s of this.subscribers) {
          if (wants(s, row)) {
            await enqueue(tx, DELIVER_TASK, { eventId: row.id, subscriber: s.name }, { jobKey: `event:${row.id}:${s.name}`, maxAttempts: 25 });
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
