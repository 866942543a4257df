import { mkdtemp, chmod, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../src/db/embedded.js';
import { migrate } from '../src/db/migrate.js';
import { createPool } from '../src/db/pool.js';
import { prepareQueue } from '../src/jobs/queue.js';

/** A fresh embedded PostgreSQL in a temp dir, migrated, for one benchmark run. */
export async function benchDatabase(): Promise<{ db: EmbeddedDatabase; close(): Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rapport-bench-'));
  await chmod(dir, 0o755);
  const db = await startEmbeddedPostgres({ dataDir: dir, log: () => {} });
  const pool = createPool(db.url, { max: 2 });
  await migrate(pool);
  await prepareQueue(pool);
  await pool.end();
  return {
    db,
    close: async () => {
      await db.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

export function summarize(samples: number[]): { p50: number; p95: number; p99: number; n: number } {
  const s = [...samples].sort((a, b) => a - b);
  return { p50: percentile(s, 50), p95: percentile(s, 95), p99: percentile(s, 99), n: s.length };
}

export const fmt = (n: number, digits = 2) => n.toFixed(digits);
