/**
 * Write path (issue 3): "create conversation + first message" through the HTTP API versus the same
 * rows written straight through `pg`, in the same run, on a fresh embedded PostgreSQL.
 *
 * Layout, chosen so the figures mean something on a 2-core machine:
 * - this process starts the database, then forks itself with `--server` to run Rapport (startRapport,
 *   workers and dispatcher included, as in production) so the load generator does not share the
 *   server's event loop, and so the server's RSS can be read from /proc/<pid>/status;
 * - (a) HTTP: autocannon, keep-alive, 32 connections, 20 s (after a 3 s warm-up), each request a new
 *   customer email; the server's VmRSS is sampled every 100 ms;
 * - the server stops, then (b) raw ceiling: 32 workers on a pg pool of the server's size (30), each
 *   create one transaction (set_config('app.workspace_id') + one data-modifying statement writing
 *   customer, identity, conversation (number from rapport_next_conversation_number), message and the
 *   3 events), 20 s;
 * - (c) for attribution only: the service function createConversation() called in-process (no HTTP),
 *   32 workers, 20 s: it runs the same ~12 statements per create as the HTTP path.
 * Row counts are checked against the 2xx / success counts at the end.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import pg from 'pg';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config.js';
import { createPool, type Pool } from '../src/db/pool.js';
import { withWorkspace } from '../src/db/tenancy.js';
import { systemClock } from '../src/lib/clock.js';
import { createConversation } from '../src/modules/conversations/conversations.service.js';
import { createToken, createUserAccount, createWorkspace } from '../src/modules/workspaces/workspaces.service.js';
import { startRapport } from '../src/server.js';
import { BENCH_CLIENT_LIMITS, benchDatabase, cpuSecondsOf, fmt, postgresCpuSeconds, selfCpuSeconds } from './lib.js';

const CONNECTIONS = 32;
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 20);
const WARMUP_S = 3;
const POOL_SIZE = 30; // what startRapport gives the server's pool

interface Setup {
  url: string;
  pid: number;
  http: { workspaceId: string; inboxId: string; token: string };
  raw: { workspaceId: string; inboxId: string; tokenId: string };
  direct: { workspaceId: string; inboxId: string; tokenId: string };
}

/** The child: Rapport on the given database, plus the workspaces and tokens the bench needs. */
async function serverMain(): Promise<void> {
  const databaseUrl = process.env.BENCH_DATABASE_URL!;
  const rapport = await startRapport(loadConfig({}, { databaseUrl, port: 0, seedDemo: false, logLevel: 'silent', ...BENCH_CLIENT_LIMITS }), { print: () => {} });
  const deps = rapport.server;
  const workspace = async (slug: string) => {
    const ownerId = await createUserAccount(deps, { email: `owner-${slug}@bench.test`, name: `Owner ${slug}` });
    const { id, inboxId } = await createWorkspace(deps, { name: `Bench ${slug}`, slug, ownerUserId: ownerId });
    const t = await createToken({ pool: deps.pool, clock: deps.clock, workspaceId: id, actor: { type: 'user', id: ownerId } }, 'owner', { name: 'bench', role: 'admin' });
    return { workspaceId: id, inboxId, token: t.token, tokenId: t.id };
  };
  const http = await workspace('bench-http');
  const raw = await workspace('bench-raw');
  const direct = await workspace('bench-direct');
  const setup: Setup = {
    url: rapport.url,
    pid: process.pid,
    http: { workspaceId: http.workspaceId, inboxId: http.inboxId, token: http.token },
    raw: { workspaceId: raw.workspaceId, inboxId: raw.inboxId, tokenId: raw.tokenId },
    direct: { workspaceId: direct.workspaceId, inboxId: direct.inboxId, tokenId: direct.tokenId },
  };
  process.send!({ type: 'ready', setup });
  process.on('message', async (msg: { type: string }) => {
    if (msg.type === 'stop') {
      await rapport.stop();
      process.send!({ type: 'stopped' });
      process.exit(0);
    }
  });
}

function readStatus(pid: number): { rssKb: number; hwmKb: number } {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
  return { rssKb: kb('VmRSS'), hwmKb: kb('VmHWM') };
}

type AutocannonResult = {
  requests: { average: number; total: number; sent: number };
  latency: { p50: number; p97_5: number; p99: number; average: number };
  '2xx': number;
  non2xx: number;
  errors: number;
  timeouts: number;
  duration: number;
  statusCodeStats?: Record<string, { count: number }>;
};
type Autocannon = (opts: Record<string, unknown>) => Promise<AutocannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

async function httpLoad(setup: Setup, seconds: number, tag: string): Promise<AutocannonResult> {
  let n = 0;
  const body = (i: number) =>
    JSON.stringify({
      customer: { email: `${tag}-${i}@customers.bench.test`, name: `Customer ${i}` },
      subject: `Order ${i} has not arrived`,
      message: { body: `Hello, my order ${i} was due on Monday and it has not arrived yet. Can you check where it is? Thanks.` },
    });
  return autocannon({
    url: setup.url,
    connections: CONNECTIONS,
    duration: seconds,
    pipelining: 1,
    requests: [
      {
        method: 'POST',
        path: `/api/v1/workspaces/${setup.http.workspaceId}/conversations`,
        headers: { authorization: `Bearer ${setup.http.token}`, 'content-type': 'application/json' },
        setupRequest: (req: Record<string, unknown>) => ({ ...req, body: body(++n) }),
      },
    ],
  });
}

/** One create as a single data-modifying statement: the fewest round trips pg allows for these rows. */
const RAW_CREATE = `
  with cu as (
    insert into customers (workspace_id, name, created_at, updated_at) values ($1, $3, $6, $6) returning id
  ), ci as (
    insert into customer_identities (workspace_id, customer_id, kind, value, created_at)
    select $1, cu.id, 'email', $2, $6 from cu
  ), cv as (
    insert into conversations (workspace_id, number, inbox_id, customer_id, subject, created_at, updated_at, last_activity_at,
      waiting_since, last_message_preview, last_message_type, message_count)
    select $1, rapport_next_conversation_number($1), $4, cu.id, $5, $6, $6, $6, $6, left($7, 200), 'inbound', 1 from cu
    returning id, number, customer_id
  ), m as (
    insert into messages (workspace_id, conversation_id, type, author_type, author_id, body_text, created_at)
    select $1, cv.id, 'inbound', 'customer', cv.customer_id, $7, $6 from cv returning id, conversation_id
  ), ev as (
    insert into events (workspace_id, conversation_id, type, actor_type, actor_id, data, created_at)
    select $1, null, 'customer.created', 'token', $8::uuid, jsonb_build_object('customerId', cv.customer_id), $6 from cv
    union all
    select $1, cv.id, 'conversation.created', 'token', $8::uuid, jsonb_build_object('number', cv.number, 'inboxId', $4::uuid, 'customerId', cv.customer_id), $6 from cv
    union all
    select $1, m.conversation_id, 'message.created', 'token', $8::uuid, jsonb_build_object('messageId', m.id, 'messageType', 'inbound'), $6 from m
  )
  select id from cv`;

async function workers(seconds: number, concurrency: number, one: (i: number) => Promise<void>) {
  const end = Date.now() + seconds * 1000;
  let next = 0;
  let ok = 0;
  let failed = 0;
  let firstError: string | null = null;
  const latencies: number[] = [];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < end) {
        const i = ++next;
        const t0 = performance.now();
        try {
          await one(i);
          ok++;
          latencies.push(performance.now() - t0);
        } catch (error) {
          failed++;
          firstError ??= (error as Error).message;
        }
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)] ?? NaN;
  return { ok, failed, firstError, elapsed, rate: ok / elapsed, p50: pct(50), p99: pct(99) };
}

/** CPU used by each side between two snapshots, as ms per create. */
function cpuSnapshot(port: number, serverPid?: number) {
  return { self: selfCpuSeconds(), pg: postgresCpuSeconds(port), server: serverPid ? cpuSecondsOf(serverPid) : 0, at: performance.now() };
}
function cpuReport(a: ReturnType<typeof cpuSnapshot>, b: ReturnType<typeof cpuSnapshot>, creates: number, selfName: string, serverName?: string): string {
  const per = (x: number) => fmt((x * 1000) / creates, 2);
  const wall = (b.at - a.at) / 1000;
  const parts = [`${selfName} ${per(b.self - a.self)}`];
  if (serverName) parts.push(`${serverName} ${per(b.server - a.server)}`);
  parts.push(`PostgreSQL ${per(b.pg - a.pg)}`);
  const total = b.self - a.self + (b.server - a.server) + (b.pg - a.pg);
  // Other work on the machine shows in the load average: wall-clock rates are only comparable when it is low.
  return `CPU ms per create: ${parts.join(', ')} (all: ${per(total)}; ${fmt(total / wall, 2)} of ${os.cpus().length} cores busy with this; machine load average ${fmt(os.loadavg()[0], 1)})`;
}

async function countRows(pool: Pool, ws: string) {
  return withWorkspace(pool, ws, async (tx) => {
    const { rows } = await tx.query<Record<string, string>>(
      `select (select count(*) from customers where workspace_id = $1) as customers,
              (select count(*) from customer_identities where workspace_id = $1) as identities,
              (select count(*) from conversations where workspace_id = $1) as conversations,
              (select count(*) from messages where workspace_id = $1) as messages,
              (select count(*) from events where workspace_id = $1) as events,
              (select count(*) from conversations where workspace_id = $1 and message_count = 1 and last_message_type = 'inbound') as complete`,
      [ws],
    );
    return Object.fromEntries(Object.entries(rows[0]).map(([k, v]) => [k, Number(v)]));
  });
}

function checkCounts(label: string, counts: Record<string, number>, expected: number): boolean {
  const want: Record<string, number> = { customers: expected, identities: expected, conversations: expected, messages: expected, events: 3 * expected, complete: expected };
  const bad = Object.entries(want).filter(([k, v]) => counts[k] !== v);
  console.log(
    `  rows (${label}): ${Object.entries(counts)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}  expected ${expected} creates -> ${bad.length ? `MISMATCH ${bad.map(([k, v]) => `${k}: want ${v}`).join(', ')}` : 'ok'}`,
  );
  return bad.length === 0;
}

async function main(): Promise<void> {
  // pg_stat_statements (with planning time) says where PostgreSQL's time per create goes.
  const { db, close } = await benchDatabase({ postgresFlags: ['-c', 'shared_preload_libraries=pg_stat_statements', '-c', 'pg_stat_statements.track_planning=on'] });
  const admin = new pg.Client({ connectionString: db.adminUrl.replace(/\/postgres$/, '/rapport') });
  await admin.connect();
  await admin.query('create extension if not exists pg_stat_statements');
  let child: ChildProcess | null = null;
  let failed = false;
  try {
    child = fork(fileURLToPath(import.meta.url), ['--server'], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, BENCH_DATABASE_URL: db.url },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const setup = await new Promise<Setup>((resolve, reject) => {
      child!.once('message', (m: { type: string; setup: Setup }) => (m.type === 'ready' ? resolve(m.setup) : reject(new Error('unexpected message'))));
      child!.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
    });
    const idle = readStatus(setup.pid);
    console.log(`server pid ${setup.pid} at ${setup.url}; idle RSS ${fmt(idle.rssKb / 1024, 1)} MiB`);

    // (a) HTTP
    const warm = await httpLoad(setup, WARMUP_S, 'warm');
    let peakKb = 0;
    const samples: number[] = [];
    const sampler = setInterval(() => {
      const s = readStatus(setup.pid).rssKb;
      samples.push(s);
      peakKb = Math.max(peakKb, s);
    }, 100);
    await admin.query('select pg_stat_statements_reset()');
    const cpuA0 = cpuSnapshot(db.port, setup.pid);
    const http = await httpLoad(setup, DURATION_S, 'load');
    const cpuA1 = cpuSnapshot(db.port, setup.pid);
    clearInterval(sampler);
    const status = readStatus(setup.pid);
    const httpRate = http['2xx'] / http.duration;
    console.log(`(a) HTTP POST /conversations, keep-alive, ${CONNECTIONS} connections, ${DURATION_S} s:`);
    console.log(`    ${http['2xx']} x 2xx, ${http.non2xx} non-2xx, ${http.errors} errors, ${http.timeouts} timeouts -> ${fmt(httpRate, 0)} creates/s`);
    console.log(`    latency p50 ${http.latency.p50} ms, p97.5 ${http.latency.p97_5} ms, p99 ${http.latency.p99} ms`);
    console.log(`    ${cpuReport(cpuA0, cpuA1, http['2xx'], 'autocannon', 'server')}`);
    console.log(
      `    server RSS: idle ${fmt(idle.rssKb / 1024, 1)} MiB, peak sampled under load ${fmt(peakKb / 1024, 1)} MiB (${samples.length} samples / 100 ms), VmHWM ${fmt(status.hwmKb / 1024, 1)} MiB`,
    );
    if (http.non2xx || http.errors) failed = true;
    const statements = await admin.query<{ calls: string; exec: string; plan: string; q: string }>(
      `select calls::text, (total_exec_time / $1)::numeric(8, 3)::text as exec, (total_plan_time / $1)::numeric(8, 3)::text as plan,
         left(regexp_replace(query, '\\s+', ' ', 'g'), 100) as q
       from pg_stat_statements where dbid = (select oid from pg_database where datname = 'rapport') and calls > 0
       order by total_exec_time + total_plan_time desc limit 16`,
      [http['2xx']],
    );
    console.log('    PostgreSQL time per create by statement during (a) (ms executing / ms planning, calls):');
    for (const r of statements.rows) console.log(`      ${r.exec.padStart(6)} / ${r.plan.padStart(6)}  ${r.calls.padStart(7)}  ${r.q}`);

    // Stop the server (its dispatcher would otherwise work on the raw run's events too).
    await new Promise<void>((resolve) => {
      child!.once('exit', () => resolve());
      child!.send({ type: 'stop' });
    });
    child = null;

    const pool = createPool(db.url, { max: POOL_SIZE, applicationName: 'bench' });
    try {
      // (b) raw ceiling
      const cpuB0 = cpuSnapshot(db.port);
      const raw = await workers(DURATION_S, CONNECTIONS, async (i) => {
        await withWorkspace(pool, setup.raw.workspaceId, async (tx) => {
          const body = `Hello, my order ${i} was due on Monday and it has not arrived yet. Can you check where it is? Thanks.`;
          await tx.query(RAW_CREATE, [setup.raw.workspaceId, `raw-${i}@customers.bench.test`, `Customer ${i}`, setup.raw.inboxId, `Order ${i} has not arrived`, new Date(), body, setup.raw.tokenId]);
        });
      });
      const cpuB1 = cpuSnapshot(db.port);
      console.log(`(b) raw pg ceiling (pool ${POOL_SIZE}, ${CONNECTIONS} workers, one transaction per create, ${DURATION_S} s):`);
      console.log(
        `    ${raw.ok} creates, ${raw.failed} failed${raw.firstError ? ` (${raw.firstError})` : ''} -> ${fmt(raw.rate, 0)} creates/s; latency p50 ${fmt(raw.p50)} ms, p99 ${fmt(raw.p99)} ms`,
      );

      console.log(`    ${cpuReport(cpuB0, cpuB1, raw.ok, 'bench (pg client)')}`);

      // (c) attribution: the service without HTTP
      const deps = { pool, clock: systemClock, workspaceId: setup.direct.workspaceId, actor: { type: 'token' as const, id: setup.direct.tokenId } };
      const cpuC0 = cpuSnapshot(db.port);
      const direct = await workers(DURATION_S, CONNECTIONS, async (i) => {
        await createConversation(deps, {
          customer: { email: `direct-${i}@customers.bench.test`, name: `Customer ${i}` },
          subject: `Order ${i} has not arrived`,
          message: { body: `Hello, my order ${i} was due on Monday and it has not arrived yet. Can you check where it is? Thanks.` },
        });
      });
      const cpuC1 = cpuSnapshot(db.port);
      console.log(`(c) createConversation() in-process, no HTTP (attribution only), ${CONNECTIONS} workers, ${DURATION_S} s:`);
      console.log(
        `    ${direct.ok} creates, ${direct.failed} failed${direct.firstError ? ` (${direct.firstError})` : ''} -> ${fmt(direct.rate, 0)} creates/s; latency p50 ${fmt(direct.p50)} ms, p99 ${fmt(direct.p99)} ms`,
      );

      console.log(`    ${cpuReport(cpuC0, cpuC1, direct.ok, 'bench (service + pg client)')}`);

      const ratio = httpRate / raw.rate;
      const cpuRatio = (cpuB1.self - cpuB0.self + cpuB1.pg - cpuB0.pg) / raw.ok / ((cpuA1.self - cpuA0.self + cpuA1.server - cpuA0.server + cpuA1.pg - cpuA0.pg) / http['2xx']);
      console.log(`CPU per create, raw / HTTP (the rate ratio when CPU is the limit and nothing else runs): ${fmt(cpuRatio)}`);
      console.log(
        `RESULT write path: HTTP ${fmt(httpRate, 0)} creates/s, raw ceiling ${fmt(raw.rate, 0)} creates/s, ratio ${fmt(ratio)} (goal >= 0.5: ${ratio >= 0.5 ? 'met' : 'MISSED'}); service without HTTP ${fmt(direct.rate, 0)}/s (${fmt(direct.rate / raw.rate)} of ceiling); server peak RSS under load ${fmt(peakKb / 1024, 1)} MiB`,
      );

      // autocannon stops with up to one request in flight per connection: the server still completes
      // those, so the HTTP workspace holds between the 2xx count and the sent count.
      const httpCounts = await countRows(pool, setup.http.workspaceId);
      const got2xx = warm['2xx'] + http['2xx'];
      const sent = warm.requests.sent + http.requests.sent;
      const inFlight = httpCounts.conversations - got2xx;
      console.log(`  HTTP: ${got2xx} x 2xx (warm-up + load), ${sent} sent; ${inFlight} more created by requests still in flight when autocannon stopped (at most ${sent - got2xx})`);
      const ok1 = inFlight >= 0 && inFlight <= sent - got2xx && checkCounts('HTTP', httpCounts, httpCounts.conversations);
      const ok2 = checkCounts('raw', await countRows(pool, setup.raw.workspaceId), raw.ok);
      const ok3 = checkCounts('service', await countRows(pool, setup.direct.workspaceId), direct.ok);
      if (!ok1 || !ok2 || !ok3) failed = true;
    } finally {
      await pool.end();
    }
  } finally {
    if (child) child.kill('SIGTERM');
    await admin.end().catch(() => {});
    await close();
  }
  if (failed) process.exitCode = 1;
}

if (process.argv.includes('--server')) {
  await serverMain();
} else {
  await main();
}
