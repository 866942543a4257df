/**
 * Write path (issue 14): "create conversation + first message" through Rapport's HTTP API versus an
 * honest ceiling, the same rows written by one statement behind a bare HTTP route, in the same run.
 *
 * Same process topology for both, so the ratio measures Rapport's logic and nothing else:
 * - this process starts a fresh embedded PostgreSQL and is the load generator (autocannon, keep-alive,
 *   32 connections, each request a new customer email); latencies are timed here, in one process;
 * - child 1 (`--server`): Rapport (startRapport, dispatcher and job worker included, as in production);
 * - child 2 (`--ceiling`): a bare Fastify route on a pool of the same size (30) that runs, in one
 *   transaction scoped like Rapport's (set_config('app.workspace_id') for row-level security), ONE
 *   statement writing the rows Rapport writes: customer find-or-create (look-up by identity, customer,
 *   identity, customer.created), the API inbox look-up, the conversation with its number and inbox
 *   columns, the first message, both search documents and the conversation.created and
 *   message.created events; it answers the conversation row as JSON. Its events are written already
 *   marked dispatched, so Rapport's dispatcher (same database) does no work for the ceiling's rounds.
 * Both are warmed up, then BENCH_RUNS (3) rounds of BENCH_DURATION_S (20) s each, alternating which
 * goes first, each round only once the previous rounds' event and job backlog has drained. Printed:
 * each side's rate as min / median / max, the ratio per round, and each server's RSS. Row counts are
 * checked against the 2xx counts at the end.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import Fastify from 'fastify';
import pg from 'pg';
import { loadConfig } from '../src/config.js';
import { createPool, type Pool } from '../src/db/pool.js';
import { withWorkspace } from '../src/db/tenancy.js';
import { createToken, createUserAccount, createWorkspace } from '../src/modules/workspaces/workspaces.service.js';
import { startRapport } from '../src/server.js';
import { BENCH_CLIENT_LIMITS, benchDatabase, cpuSecondsOf, drained, fmt, fmtRuns as mmm, forkChild, minMedianMax, postgresCpuSeconds, readyOf, selfCpuSeconds, stopChild } from './lib.js';

const CONNECTIONS = 32;
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 20);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const WARMUP_S = 3;
const POOL_SIZE = 30; // what startRapport gives the server's pool

interface Target {
  workspaceId: string;
  inboxId: string;
  token: string;
  tokenId: string;
}
interface Setup {
  url: string;
  pid: number;
  http: Target;
  ceiling: Target;
}

/** Child 1: Rapport on the given database, plus the workspaces and tokens the bench needs. */
async function serverMain(): Promise<void> {
  const databaseUrl = process.env.BENCH_DATABASE_URL!;
  const rapport = await startRapport(loadConfig({}, { databaseUrl, port: 0, smtpPort: 0, seedDemo: false, logLevel: 'silent', ...BENCH_CLIENT_LIMITS }), { print: () => {} });
  const deps = rapport.server;
  const workspace = async (slug: string): Promise<Target> => {
    const ownerId = await createUserAccount(deps, { email: `owner-${slug}@bench.test`, name: `Owner ${slug}` });
    const { id, inboxId } = await createWorkspace(deps, { name: `Bench ${slug}`, slug, ownerUserId: ownerId });
    const t = await createToken({ pool: deps.pool, clock: deps.clock, workspaceId: id, actor: { type: 'user', id: ownerId } }, 'owner', { name: 'bench', role: 'admin' });
    return { workspaceId: id, inboxId, token: t.token, tokenId: t.id };
  };
  const setup: Setup = { url: rapport.url, pid: process.pid, http: await workspace('bench-http'), ceiling: await workspace('bench-ceiling') };
  process.send!({ type: 'ready', setup });
  process.on('message', async (msg: { type: string }) => {
    if (msg.type === 'stop') {
      await rapport.stop();
      process.send!({ type: 'stopped' });
      process.exit(0);
    }
  });
}

/**
 * The ceiling's one statement: every row Rapport writes for a create, with no logic around it.
 * $1 workspace, $2 email, $3 name, $4 subject, $5 at, $6 body, $7 preview, $8 token id.
 */
const CEILING_CREATE = `
  with found as (
    select customer_id from customer_identities where workspace_id = $1 and kind = 'email' and value = $2
  ), cu as (
    insert into customers (workspace_id, name, custom_attributes, created_at, updated_at)
    select $1, $3, '{}', $5, $5 where not exists (select 1 from found) returning id
  ), ci as (
    insert into customer_identities (workspace_id, customer_id, kind, value, created_at)
    select $1, cu.id, 'email', $2, $5 from cu on conflict (workspace_id, kind, value) do nothing
  ), who as (
    select customer_id as id from found union all select id from cu
  ), ib as (
    select id, channel from inboxes where workspace_id = $1 and channel = 'api' order by created_at, id limit 1
  ), n as (
    select rapport_next_conversation_number($1) as number from ib
  ), cv as (
    insert into conversations (workspace_id, number, inbox_id, customer_id, subject, priority, tags, created_at, updated_at, last_activity_at,
      waiting_since, last_message_preview, last_message_type, message_count)
    select $1, n.number, ib.id, who.id, $4, 'normal', '{}', $5, $5, $5, $5, $7, 'inbound', 1 from ib, n, who
    returning *
  ), cd as (
    insert into search_documents (workspace_id, conversation_id, message_id, search)
    select workspace_id, id, null, subject_search from cv where subject_search <> ''::tsvector
  ), m as (
    insert into messages (workspace_id, conversation_id, type, author_type, author_id, body_text, metadata, created_at, kind)
    select $1, cv.id, 'inbound', 'customer', cv.customer_id, $6, '{}', $5, 'text' from cv returning workspace_id, conversation_id, id, search
  ), md as (
    insert into search_documents (workspace_id, conversation_id, message_id, search)
    select workspace_id, conversation_id, id, search from m where search <> ''::tsvector
  ), ev as (
    insert into events (workspace_id, conversation_id, type, actor_type, actor_id, data, created_at, dispatched_at)
    select $1, null, 'customer.created', 'token', $8::uuid, jsonb_build_object('customerId', cu.id), $5, $5 from cu
    union all
    select $1, cv.id, 'conversation.created', 'token', $8::uuid, jsonb_build_object('number', cv.number, 'inboxId', cv.inbox_id, 'customerId', cv.customer_id), $5, $5 from cv
    union all
    select $1, m.conversation_id, 'message.created', 'token', $8::uuid, jsonb_build_object('messageId', m.id, 'messageType', 'inbound'), $5, $5 from m
  )
  select cv.id, cv.number, cv.inbox_id, ib.channel, cv.customer_id, $3::text as customer_name, $2::text as customer_email, cv.subject, cv.status,
    cv.priority, cv.tags, cv.created_at, cv.updated_at, cv.last_activity_at, cv.waiting_since, cv.last_message_preview, cv.last_message_type, cv.message_count
  from cv, ib`;

/** Child 2: the ceiling, a bare Fastify route running CEILING_CREATE on a pool of Rapport's size. */
async function ceilingMain(): Promise<void> {
  const pool = createPool(process.env.BENCH_DATABASE_URL!, { max: POOL_SIZE, applicationName: 'bench-ceiling' });
  const tokenId = process.env.BENCH_CEILING_TOKEN_ID!;
  const app = Fastify({ logger: false });
  app.post<{ Params: { ws: string }; Body: { customer: { email: string; name?: string }; subject?: string; message: { body: string } } }>('/ceiling/:ws', async (request, reply) => {
    const b = request.body;
    const { rows } = await withWorkspace(pool, request.params.ws, (tx) =>
      tx.query({
        name: 'ceiling',
        text: CEILING_CREATE,
        values: [request.params.ws, b.customer.email.toLowerCase(), b.customer.name ?? null, b.subject ?? null, new Date(), b.message.body, b.message.body.slice(0, 160), tokenId],
      }),
    );
    return reply.code(201).send(rows[0]);
  });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  process.send!({ type: 'ready', url, pid: process.pid });
  process.on('message', async (msg: { type: string }) => {
    if (msg.type === 'stop') {
      await app.close();
      await pool.end();
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
};
type Autocannon = (opts: Record<string, unknown>) => Promise<AutocannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

let requestCounter = 0;
async function load(url: string, path: string, headers: Record<string, string>, seconds: number, tag: string): Promise<AutocannonResult> {
  const body = (i: number) =>
    JSON.stringify({
      customer: { email: `${tag}-${i}@customers.bench.test`, name: `Customer ${i}` },
      subject: `Order ${i} has not arrived`,
      message: { body: `Hello, my order ${i} was due on Monday and it has not arrived yet. Can you check where it is? Thanks.` },
    });
  return autocannon({
    url,
    connections: CONNECTIONS,
    duration: seconds,
    pipelining: 1,
    requests: [{ method: 'POST', path, headers: { ...headers, 'content-type': 'application/json' }, setupRequest: (req: Record<string, unknown>) => ({ ...req, body: body(++requestCounter) }) }],
  });
}

/** CPU used by each side between two snapshots, as ms per create. */
function cpuSnapshot(port: number, serverPid: number) {
  return { self: selfCpuSeconds(), pg: postgresCpuSeconds(port), server: cpuSecondsOf(serverPid), at: performance.now() };
}
function cpuReport(a: ReturnType<typeof cpuSnapshot>, b: ReturnType<typeof cpuSnapshot>, creates: number, serverName: string): string {
  const per = (x: number) => fmt((x * 1000) / creates, 2);
  const wall = (b.at - a.at) / 1000;
  const total = b.self - a.self + (b.server - a.server) + (b.pg - a.pg);
  // Other work on the machine shows in the load average: wall-clock rates are only comparable when it is low.
  return `CPU ms per create: autocannon ${per(b.self - a.self)}, ${serverName} ${per(b.server - a.server)}, PostgreSQL ${per(b.pg - a.pg)} (all: ${per(total)}; ${fmt(total / wall, 2)} of ${os.cpus().length} cores busy with this; load average ${fmt(os.loadavg()[0], 1)})`;
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

interface Round {
  rate: number;
  p50: number;
  p99: number;
  ok: number;
  sent: number;
  bad: number;
  peakKb: number;
  cpu: string;
}

async function main(): Promise<void> {
  // pg_stat_statements (with planning time) says where PostgreSQL's time per create goes.
  const { db, close } = await benchDatabase({ postgresFlags: ['-c', 'shared_preload_libraries=pg_stat_statements', '-c', 'pg_stat_statements.track_planning=on'] });
  const admin = new pg.Client({ connectionString: db.adminUrl.replace(/\/postgres$/, '/rapport') });
  await admin.connect();
  await admin.query('create extension if not exists pg_stat_statements');
  const pool = createPool(db.url, { max: 2, applicationName: 'bench' });
  let server: ChildProcess | null = null;
  let ceiling: ChildProcess | null = null;
  let failed = false;
  try {
    server = forkChild(import.meta.url, '--server', { BENCH_DATABASE_URL: db.url });
    const { setup } = await readyOf<{ setup: Setup }>(server);
    ceiling = forkChild(import.meta.url, '--ceiling', { BENCH_DATABASE_URL: db.url, BENCH_CEILING_TOKEN_ID: setup.ceiling.tokenId });
    const bare = await readyOf<{ url: string; pid: number }>(ceiling);
    const idleR = readStatus(setup.pid);
    const idleC = readStatus(bare.pid);
    console.log(`Rapport pid ${setup.pid} (idle RSS ${fmt(idleR.rssKb / 1024, 1)} MiB); ceiling pid ${bare.pid} (idle RSS ${fmt(idleC.rssKb / 1024, 1)} MiB)`);
    console.log(`${RUNS} rounds of ${DURATION_S} s each side, ${CONNECTIONS} connections, after a ${WARMUP_S} s warm-up of each`);

    const sides = {
      rapport: { url: setup.url, path: `/api/v1/workspaces/${setup.http.workspaceId}/conversations`, headers: { authorization: `Bearer ${setup.http.token}` }, pid: setup.pid, name: 'Rapport' },
      ceiling: { url: bare.url, path: `/ceiling/${setup.ceiling.workspaceId}`, headers: {}, pid: bare.pid, name: 'ceiling server' },
    };
    const totals = { rapport: { ok: 0, sent: 0 }, ceiling: { ok: 0, sent: 0 } };
    const rounds: { rapport: Round[]; ceiling: Round[] } = { rapport: [], ceiling: [] };
    const run = async (side: 'rapport' | 'ceiling', seconds: number, tag: string): Promise<Round> => {
      const s = sides[side];
      let peakKb = 0;
      const sampler = setInterval(() => {
        peakKb = Math.max(peakKb, readStatus(s.pid).rssKb);
      }, 100);
      const c0 = cpuSnapshot(db.port, s.pid);
      const r = await load(s.url, s.path, s.headers, seconds, tag);
      const c1 = cpuSnapshot(db.port, s.pid);
      clearInterval(sampler);
      totals[side].ok += r['2xx'];
      totals[side].sent += r.requests.sent;
      return { rate: r['2xx'] / r.duration, p50: r.latency.p50, p99: r.latency.p99, ok: r['2xx'], sent: r.requests.sent, bad: r.non2xx + r.errors, peakKb, cpu: cpuReport(c0, c1, r['2xx'], s.name) };
    };
    for (const side of ['rapport', 'ceiling'] as const) {
      const w = await run(side, WARMUP_S, `warm-${side}`);
      if (w.bad) {
        console.log(`  warm-up of ${side}: ${w.bad} non-2xx or errors`);
        failed = true;
      }
    }
    for (let i = 1; i <= RUNS; i++) {
      const order = i % 2 === 1 ? (['rapport', 'ceiling'] as const) : (['ceiling', 'rapport'] as const);
      for (const side of order) {
        const waited = await drained(pool);
        if (side === 'rapport') await admin.query('select pg_stat_statements_reset()');
        const r = await run(side, DURATION_S, `r${i}-${side}`);
        rounds[side].push(r);
        if (r.bad) failed = true;
        console.log(
          `  round ${i} ${side.padEnd(7)}: ${fmt(r.rate, 0)} creates/s (${r.ok} x 2xx, ${r.bad} other), p50 ${r.p50} ms, p99 ${r.p99} ms, peak RSS ${fmt(r.peakKb / 1024, 1)} MiB; backlog drained in ${fmt(waited, 1)} s before`,
        );
        console.log(`      ${r.cpu}`);
        if (side === 'rapport' && i === RUNS) {
          const statements = await admin.query<{ calls: string; exec: string; plan: string; q: string }>(
            `select calls::text, (total_exec_time / $1)::numeric(8, 3)::text as exec, (total_plan_time / $1)::numeric(8, 3)::text as plan,
               left(regexp_replace(query, '\\s+', ' ', 'g'), 100) as q
             from pg_stat_statements where dbid = (select oid from pg_database where datname = 'rapport') and calls > 0
             order by total_exec_time + total_plan_time desc limit 12`,
            [r.ok],
          );
          console.log('      PostgreSQL time per create by statement in this round (ms executing / ms planning, calls):');
          for (const row of statements.rows) console.log(`        ${row.exec.padStart(6)} / ${row.plan.padStart(6)}  ${row.calls.padStart(7)}  ${row.q}`);
        }
      }
    }
    const ratios = rounds.rapport.map((r, i) => r.rate / rounds.ceiling[i].rate);
    const medianRatio = minMedianMax(ratios).median;
    console.log(`Rapport  creates/s min / median / max: ${mmm(rounds.rapport.map((r) => r.rate))}; p99 ms ${mmm(rounds.rapport.map((r) => r.p99))}`);
    console.log(`ceiling  creates/s min / median / max: ${mmm(rounds.ceiling.map((r) => r.rate))}; p99 ms ${mmm(rounds.ceiling.map((r) => r.p99))}`);
    console.log(`ratio per round min / median / max: ${mmm(ratios, 2)}`);
    const peak = (rs: Round[]) => fmt(Math.max(...rs.map((r) => r.peakKb)) / 1024, 1);
    console.log(`server RSS: Rapport idle ${fmt(idleR.rssKb / 1024, 1)} MiB, peak ${peak(rounds.rapport)} MiB; ceiling idle ${fmt(idleC.rssKb / 1024, 1)} MiB, peak ${peak(rounds.ceiling)} MiB`);
    console.log(`RESULT write path: ratio median ${fmt(medianRatio)} of the honest ceiling (goal >= 0.6: ${medianRatio >= 0.6 ? 'met' : 'MISSED'})`);

    await drained(pool);
    // autocannon stops with up to one request in flight per connection: the server still completes
    // those, so a workspace holds between the 2xx count and the sent count.
    for (const [side, ws] of [
      ['rapport', setup.http.workspaceId],
      ['ceiling', setup.ceiling.workspaceId],
    ] as const) {
      const counts = await countRows(pool, ws);
      const t = totals[side];
      const inFlight = counts.conversations - t.ok;
      console.log(`  ${side}: ${t.ok} x 2xx, ${t.sent} sent; ${inFlight} more created by requests in flight when autocannon stopped (at most ${t.sent - t.ok})`);
      if (!(inFlight >= 0 && inFlight <= t.sent - t.ok && checkCounts(side, counts, counts.conversations))) failed = true;
    }
  } finally {
    if (ceiling) await stopChild(ceiling).catch(() => ceiling?.kill('SIGTERM'));
    if (server) await stopChild(server).catch(() => server?.kill('SIGTERM'));
    await pool.end();
    await admin.end().catch(() => {});
    await close();
  }
  if (failed) process.exitCode = 1;
}

if (process.argv.includes('--server')) {
  await serverMain();
} else if (process.argv.includes('--ceiling')) {
  await ceilingMain();
} else {
  await main();
}
