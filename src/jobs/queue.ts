import { run, runMigrations, type Runner, type Task, type TaskList } from 'graphile-worker';
import type { Pool, Queryable } from '../db/pool.js';
import type { Logger } from '../lib/logger.js';
import { Logger as WorkerLogger } from 'graphile-worker';

/**
 * Background jobs run through graphile-worker on the same PostgreSQL (no Redis, no home-made queue).
 * Modules register tasks by name; `enqueue` adds a job inside the caller's transaction, so a job is
 * queued exactly when the change that needs it commits.
 */
export type Tasks = Record<string, Task>;

export async function prepareQueue(pool: Pool): Promise<void> {
  await runMigrations({ pgPool: pool, logger: quietLogger() });
}

/** `crontab` lines (graphile-worker's format) schedule recurring tasks, e.g. hourly purges. */
export async function startWorker(opts: { pool: Pool; tasks: Tasks; concurrency: number; log: Logger; pollInterval?: number; crontab?: string }): Promise<Runner> {
  return run({
    pgPool: opts.pool,
    taskList: opts.tasks as TaskList,
    concurrency: opts.concurrency,
    noHandleSignals: true,
    pollInterval: opts.pollInterval ?? 2000,
    crontab: opts.crontab,
    logger: bridgeLogger(opts.log),
  });
}

export interface EnqueueOptions {
  jobKey?: string;
  runAt?: Date;
  maxAttempts?: number;
  queueName?: string;
}

export async function enqueue(tx: Queryable, task: string, payload: unknown, opts: EnqueueOptions = {}): Promise<void> {
  await tx.query(`select graphile_worker.add_job($1, $2::json, queue_name => $3, run_at => $4, max_attempts => $5, job_key => $6)`, [
    task,
    JSON.stringify(payload),
    opts.queueName ?? null,
    opts.runAt ?? null,
    opts.maxAttempts ?? null,
    opts.jobKey ?? null,
  ]);
}

function quietLogger(): WorkerLogger {
  return new WorkerLogger(() => () => {});
}

function bridgeLogger(log: Logger): WorkerLogger {
  return new WorkerLogger((scope) => (level, message, meta) => {
    const fields = { scope: { label: scope.label, taskIdentifier: scope.taskIdentifier, jobId: scope.jobId } };
    if (level === 'error') log.error(fields, message);
    else if (level === 'warning') log.warn(fields, message);
    else log.debug({ ...fields, meta: meta ? Object.keys(meta) : undefined }, message);
  });
}
