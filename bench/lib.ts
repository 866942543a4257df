import { fork, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, chmod, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../src/db/embedded.js';
import { migrate } from '../src/db/migrate.js';
import { createPool, type Pool } from '../src/db/pool.js';
import { withSystem } from '../src/db/tenancy.js';
import { prepareQueue } from '../src/jobs/queue.js';

/** A fresh embedded PostgreSQL in a temp dir, migrated, for one benchmark run. */
export async function benchDatabase(opts: { postgresFlags?: string[] } = {}): Promise<{ db: EmbeddedDatabase; close(): Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rapport-bench-'));
  await chmod(dir, 0o755);
  const db = await startEmbeddedPostgres({ dataDir: dir, log: () => {}, postgresFlags: opts.postgresFlags });
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

/**
 * CPU seconds (user + system) used so far by a process, from /proc/<pid>/stat (Linux only; NaN
 * elsewhere). Used to say where the time of a benchmark went: load generator, server, database.
 */
export function cpuSecondsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return NaN;
  }
}

/** CPU seconds of the exited children a process has waited for (cutime + cstime). */
function reapedCpuSecondsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[13]) + Number(fields[14])) / 100;
  } catch {
    return NaN;
  }
}

/**
 * CPU seconds used so far by the PostgreSQL listening on `port`: its postmaster and every backend and
 * helper process it forked (exited backends are not counted, so keep connections open while measuring).
 */
export function postgresCpuSeconds(port: number): number {
  let postmaster = 0;
  const procs: { pid: number; ppid: number }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      procs.push({ pid: Number(entry), ppid });
      if (!postmaster && stat.includes('(postgres)')) {
        const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
        const p = args.indexOf('-p');
        if (p >= 0 && args[p + 1] === String(port)) postmaster = Number(entry);
      }
    } catch {
      // the process ended while we looked
    }
  }
  if (!postmaster) return NaN;
  // Live children, plus what the postmaster has reaped from exited ones (cutime + cstime), so the
  // figure never goes down when a backend or autovacuum worker exits between two readings.
  const live = procs.filter((p) => p.pid === postmaster || p.ppid === postmaster).reduce((sum, p) => sum + cpuSecondsOf(p.pid), 0);
  return live + reapedCpuSecondsOf(postmaster);
}

/** CPU used by this process so far, in seconds. */
export const selfCpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/**
 * A benchmark's clients all come from 127.0.0.1 and share a few principals (1,000 sockets over a
 * handful of agents, 32 connections on one token), which the edge limits (M1) rightly refuse from a
 * real client. The benchmarks measure throughput and fan-out, not those limits (bench/connections
 * measures them), so they lift them.
 */
export const BENCH_CLIENT_LIMITS = {
  httpMaxConnections: 100_000,
  httpMaxConnectionsPerIp: 100_000,
  httpMaxRequestsPerCredential: 100_000,
  realtimeMaxSocketsPerPrincipal: 100_000,
  realtimeMaxSocketsPerIp: 100_000,
  smtpMaxConnections: 10_000,
  smtpMaxConnectionsPerIp: 10_000,
} as const;

/**
 * Waits (polling, bounded at 180 s) until no event is undispatched and no job is due, so a round
 * starts from rest and never pays for the previous one's backlog. Returns the seconds it waited.
 */
export async function drained(pool: Pool, pollMs = 200): Promise<number> {
  const started = performance.now();
  for (;;) {
    const n = await withSystem(
      pool,
      async (tx) =>
        (
          await tx.query<{ n: number }>(
            `select (select count(*) from events where dispatched_at is null)::int + (select count(*) from graphile_worker.jobs where run_at <= now() and attempts < max_attempts)::int as n`,
          )
        ).rows[0].n,
    );
    if (n === 0) return (performance.now() - started) / 1000;
    if (performance.now() - started > 180_000) throw new Error(`backlog of ${n} did not drain in 180 s`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** min, median and max of a few runs (the benchmarks report 3). */
export function minMedianMax(xs: number[]): { min: number; median: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0], median: s[Math.floor((s.length - 1) / 2)], max: s[s.length - 1] };
}

/** "min / median / max" of a few runs. */
export function fmtRuns(xs: number[], digits = 0): string {
  const { min, median, max } = minMedianMax(xs);
  return `${fmt(min, digits)} / ${fmt(median, digits)} / ${fmt(max, digits)}`;
}

/**
 * Runs this benchmark file again as a child in `mode` (its server or its ceiling, in a process of its
 * own), talking over IPC: the child sends { type: 'ready', ... } once listening and exits on { type: 'stop' }.
 */
export function forkChild(scriptUrl: string, mode: string, env: Record<string, string>): ChildProcess {
  return fork(fileURLToPath(scriptUrl), [mode], { execArgv: ['--import', 'tsx'], env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

/** The child's 'ready' message; rejects if it exits first. */
export function readyOf<T>(child: ChildProcess): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    child.once('message', (m: { type: string } & T) => (m.type === 'ready' ? resolve(m) : reject(new Error('unexpected message'))));
    child.once('exit', (code) => reject(new Error(`child exited with ${code}`)));
  });
}

/** Asks the child to stop and waits until it has exited. */
export function stopChild(child: ChildProcess): Promise<void> {
  return new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.send({ type: 'stop' });
  });
}
