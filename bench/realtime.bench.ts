/**
 * Realtime fan-out against its honest ceiling (issue 14).
 *
 * Rapport: two instances (each in its own process, workers included, as in production) on one
 * PostgreSQL, SOCKETS agent sockets split over them. Notes are POSTed at a steady rate (alternating the
 * instance); each instance's hub hears the NOTIFY, reads the event and its conversation (two queries per
 * batch) and writes one frame to each of its sockets.
 *
 * The ceiling, the same work without Rapport's logic, in the same topology and the same PostgreSQL
 * (schema `bench_ceiling`): one bare Fastify process whose POST writes the same rows in one statement
 * (the message, its event row of the same shape and the conversation's revision) and NOTIFYs the same
 * payload as Rapport's trigger; two bare `ws` processes that LISTEN and, per batch of notifications,
 * read the events and their conversations (the same two round trips as Rapport's hub) and broadcast one
 * frame of the same shape and size (`{type:'event', event, conversation}`) to their sockets with
 * `client.send`. No auth, no tenancy, no watermark, no audiences.
 *
 * Clients (this process, which also POSTs, so every latency is timed on one clock): every socket is a
 * tab of the agent app running the app's own EventApplier (web/src/realtime/apply.ts) on a real
 * TanStack QueryClient, events collected 100 ms at a time as RealtimeProvider does. Every tab shows the
 * inbox list (seeded, patched from the frame's conversation) and the sidebar counts; VIEWERS tabs per
 * conversation (spread over the two instances) also have that conversation open (its detail and
 * thread). So the requests are exactly those the app makes: for a note's `message.created` the list
 * and detail are patched from the frame (no request), counts are not refreshed (a note changes no
 * count), and only the tabs with that conversation open refetch its thread (GET .../messages?order=desc
 * &limit=50; the ceiling: a bare GET of the same 50 rows from PostgreSQL). Any other request the app
 * would make (a list, a detail, counts) is made too, and counted.
 *
 * Per event: POST -> the last of the SOCKETS sockets has the frame ("delivered"), and POST -> the last
 * open tab has refetched its thread ("shown"). Rounds interleave (Rapport, ceiling, Rapport, ...), RUNS
 * of each, min / median / max over runs; peak RSS of every server process per round.
 *
 * Settings: BENCH_SOCKETS (1000), BENCH_RATE (messages/s, 20), BENCH_DURATION_S (15), BENCH_RUNS (3),
 * BENCH_VIEWERS (tabs with each conversation open, 2).
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import pg from 'pg';
import WebSocket from 'ws';
import type { Conversation, ConversationFilters } from '../web/src/api/types.js';
import type { RealtimeEvent } from '../web/src/realtime/socket.js';
import { loadConfig } from '../src/config.js';
import { createPool } from '../src/db/pool.js';
import { systemClock } from '../src/lib/clock.js';
import { createLogger } from '../src/lib/logger.js';
import { addMember, createToken, createUserAccount, createWorkspace } from '../src/modules/workspaces/workspaces.service.js';
import { startRapport } from '../src/server.js';
import { BENCH_CLIENT_LIMITS, benchDatabase, cpuSecondsOf, drained, fmt, fmtRuns, forkChild, minMedianMax, readyOf, selfCpuSeconds, stopChild, summarize } from './lib.js';

const SOCKETS = Number(process.env.BENCH_SOCKETS ?? 1000);
const RATE = Number(process.env.BENCH_RATE ?? 20);
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 15);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const VIEWERS = Number(process.env.BENCH_VIEWERS ?? 2);
const WARMUP = 20;
const AGENTS = 20;
const CONVERSATIONS = 20;
const SETTLE_MS = 10_000;

const now = () => performance.now();

// ---------------------------------------------------------------------------------------------
// Child: one Rapport instance.
async function serverMain(): Promise<void> {
  const config = loadConfig({}, { databaseUrl: process.env.BENCH_DATABASE_URL!, host: '127.0.0.1', port: 0, smtpPort: 0, seedDemo: false, logLevel: 'silent', ...BENCH_CLIENT_LIMITS });
  const rapport = await startRapport(config, { print: () => {}, log: createLogger('silent') });
  process.on('message', async (m: { type: string }) => {
    if (m.type !== 'stop') return;
    await rapport.stop();
    process.exit(0);
  });
  process.send!({ type: 'ready', url: rapport.url, pid: process.pid });
}

// The ceiling's tables, beside Rapport's in the same database (its processes: realtime-ceiling.ts).
const CEILING_SCHEMA = `
create schema bench_ceiling;
create table bench_ceiling.conversations (id uuid primary key, view jsonb not null, revision bigint not null, last_activity_at timestamptz not null);
create table bench_ceiling.messages (
  id uuid primary key default gen_random_uuid(), conversation_id uuid not null, type text not null, author_type text not null,
  author_id uuid, author_name text, body_text text not null, body_html text, metadata jsonb not null default '{}', created_at timestamptz not null,
  search tsvector generated always as (to_tsvector('simple', left(body_text, 200000))) stored);
create index on bench_ceiling.messages (conversation_id, created_at desc, id desc);
create index on bench_ceiling.messages using gin (search);
create table bench_ceiling.events (
  id bigint generated always as identity primary key, workspace_id uuid not null, conversation_id uuid, type text not null,
  actor_type text not null, actor_id uuid, data jsonb not null default '{}', created_at timestamptz not null, dispatched_at timestamptz);
create index on bench_ceiling.events (workspace_id, conversation_id, id);
create index on bench_ceiling.events (id) where dispatched_at is null;`;

// ---------------------------------------------------------------------------------------------
// The parent: database, servers, and every client (sockets as app tabs, POSTs, the app's GETs).

type SideName = 'rapport' | 'ceiling';

/** Per event (message id): frames seen, the last one's time, thread refetches done, the last one's time. */
class Tracker {
  readonly entries = new Map<string, { frames: number; last: number; refetched: number; lastRefetch: number }>();
  requests = { thread: 0, list: 0, detail: 0, counts: 0 };
  otherFrames = 0;
  /** Bytes of message.created frames received, and of thread answers (JSON, decoded). */
  frameBytes = 0;
  frames = 0;
  threadBytes = 0;
  threadAnswers = 0;
  private entry(id: string) {
    let e = this.entries.get(id);
    if (!e) {
      e = { frames: 0, last: 0, refetched: 0, lastRefetch: 0 };
      this.entries.set(id, e);
    }
    return e;
  }
  frame(id: string) {
    const e = this.entry(id);
    e.frames++;
    e.last = now();
  }
  refetched(id: string) {
    const e = this.entry(id);
    e.refetched++;
    e.lastRefetch = now();
  }
  /** Waits (bounded) until every socket has the event and every open tab refetched its thread. */
  async settle(id: string, sockets: number, viewers: number, until: number): Promise<{ delivered: number | null; shown: number | null }> {
    for (;;) {
      const e = this.entries.get(id);
      const delivered = e && e.frames >= sockets ? e.last : null;
      const shown = e && e.refetched >= viewers ? e.lastRefetch : null;
      if ((delivered !== null && shown !== null) || now() > until) {
        this.entries.delete(id);
        return { delivered, shown };
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

interface Side {
  name: SideName;
  tracker: Tracker;
  /** Sends a note, answers the message id. */
  post(i: number, conversationId: string, body: string): Promise<string>;
  pids: Array<{ name: string; pid: number }>;
}

interface TabTarget {
  socketUrl: string;
  origin?: string;
  cookie?: string;
  /** Where this tab's GETs go (the instance its socket is on). */
  apiBase: string;
  open: string | null;
}

/**
 * The agent app's own code, loaded only in the parent (the server children never import it, so
 * their RSS is Rapport's alone).
 */
let webApp: undefined | Promise<typeof import('@tanstack/react-query') & typeof import('../web/src/api/keys.js') & typeof import('../web/src/realtime/apply.js')>;
const loadWebApp = () => {
  webApp ??= Promise.all([import('@tanstack/react-query'), import('../web/src/api/keys.js'), import('../web/src/realtime/apply.js')]).then(([q, k, a]) => ({ ...q, ...k, ...a }));
  return webApp;
};

type ListData = { pages: Array<{ items: Conversation[]; nextCursor: string | null }>; pageParams: Array<string | null> };
const LIST_FILTERS: ConversationFilters = { status: ['open'] };

/** One tab of the agent app on one socket: the app's EventApplier on its own QueryClient, 100 ms batches. */
async function openTab(t: TabTarget, side: Side, ws: string, me: string, seed: { list: ListData; counts: unknown; views: Map<string, Conversation> }): Promise<() => void> {
  const { InfiniteQueryObserver, QueryClient, QueryObserver, keys, EventApplier } = await loadWebApp();
  const tracker = side.tracker;
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false, staleTime: Number.POSITIVE_INFINITY, gcTime: Number.POSITIVE_INFINITY } } });
  const get = async (path: string, kind: keyof Tracker['requests']) => {
    tracker.requests[kind]++;
    const res = await fetch(`${t.apiBase}${path}`, { headers: t.cookie ? { cookie: t.cookie } : {} });
    if (!res.ok) throw new Error(`GET ${path}: ${res.status}`);
    const text = await res.text();
    if (kind === 'thread') {
      tracker.threadBytes += text.length;
      tracker.threadAnswers++;
    }
    return JSON.parse(text);
  };
  const prefix = side.name === 'rapport' ? `/api/v1/workspaces/${ws}/conversations` : '/conversations';
  qc.setQueryData(keys.conversations.list(ws, LIST_FILTERS), seed.list);
  qc.setQueryData([...keys.conversations.counts(ws), 'default'], seed.counts);
  const unsubscribe: Array<() => void> = [];
  unsubscribe.push(
    new InfiniteQueryObserver(qc, {
      queryKey: keys.conversations.list(ws, LIST_FILTERS),
      queryFn: () => get(`${prefix}?status=open&limit=50`, 'list'),
      initialPageParam: null as string | null,
      getNextPageParam: () => null,
    }).subscribe(() => {}),
  );
  unsubscribe.push(new QueryObserver(qc, { queryKey: [...keys.conversations.counts(ws), 'default'], queryFn: () => get(`${prefix}/counts`, 'counts') }).subscribe(() => {}));
  // Events of the open conversation applied but not yet covered by a thread fetch.
  let uncovered: string[] = [];
  const open = t.open;
  if (open) {
    qc.setQueryData(keys.conversations.detail(ws, open), seed.views.get(open));
    unsubscribe.push(new QueryObserver(qc, { queryKey: keys.conversations.detail(ws, open), queryFn: () => get(`${prefix}/${open}`, 'detail') }).subscribe(() => {}));
    const thread = new InfiniteQueryObserver(qc, {
      queryKey: keys.conversations.messages(ws, open),
      queryFn: async () => {
        const covers = uncovered;
        uncovered = [];
        const page = await get(`${prefix}/${open}/messages?order=desc&limit=50`, 'thread');
        for (const id of covers) tracker.refetched(id);
        return page;
      },
      initialPageParam: null as string | null,
      getNextPageParam: () => null,
    });
    unsubscribe.push(thread.subscribe(() => {}));
    await qc.fetchInfiniteQuery({ queryKey: keys.conversations.messages(ws, open), initialPageParam: null }).catch(() => {});
  }
  const applier = new EventApplier(qc, ws, me);
  const pending: Array<{ event: RealtimeEvent; conversation?: Conversation }> = [];
  let timer: ReturnType<typeof setTimeout> | null = null;
  const flush = () => {
    timer = null;
    const batch = pending.splice(0);
    for (const { event } of batch) {
      if (open && event.conversationId === open && event.type.startsWith('message.')) uncovered.push(String((event.data as { messageId?: string }).messageId));
    }
    applier.apply(batch);
  };
  const socket = await new Promise<WebSocket>((resolve, reject) => {
    const s = new WebSocket(t.socketUrl, { headers: t.cookie ? { cookie: t.cookie } : {}, ...(t.origin ? { origin: t.origin } : {}), perMessageDeflate: false });
    let ready = side.name === 'ceiling';
    s.on('message', (data) => {
      const f = JSON.parse(String(data));
      if (!ready) {
        if (f.type === 'ready') {
          ready = true;
          resolve(s);
        }
        return;
      }
      if (f.type !== 'event') return;
      if (f.event.type === 'message.created') {
        tracker.frame(f.event.data.messageId);
        tracker.frameBytes += (data as Buffer).length;
        tracker.frames++;
      } else tracker.otherFrames++;
      pending.push({ event: f.event, conversation: f.conversation });
      if (!timer) timer = setTimeout(flush, 100);
    });
    s.once('open', () => {
      if (ready) resolve(s);
    });
    s.once('error', reject);
  });
  return () => {
    socket.terminate();
    applier.stop();
    if (timer) clearTimeout(timer);
    for (const u of unsubscribe) u();
    qc.clear();
  };
}

const rssKb = (pid: number) => {
  try {
    return Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? Number.NaN);
  } catch {
    return Number.NaN;
  }
};

interface RoundResult {
  delivered: ReturnType<typeof summarize>;
  shown: ReturnType<typeof summarize>;
  post: ReturnType<typeof summarize>;
  lost: number;
  notShown: number;
  total: number;
  peakRssMb: Record<string, number>;
  cpuMsPerEvent: number;
  requests: Tracker['requests'];
  otherFrames: number;
  /** This (client) process: share of one core used, and its event loop's p99 delay (ms). */
  clientCpu: number;
  clientLoopP99: number;
}

async function round(side: Side, conversations: string[], viewersOf: Map<string, number>): Promise<RoundResult> {
  const tracker = side.tracker;
  tracker.requests = { thread: 0, list: 0, detail: 0, counts: 0 };
  tracker.otherFrames = 0;
  const peak: Record<string, number> = Object.fromEntries(side.pids.map((p) => [p.name, 0]));
  const sample = () => {
    for (const p of side.pids) peak[p.name] = Math.max(peak[p.name], rssKb(p.pid) / 1024);
  };
  const sampler = setInterval(sample, 250);
  const cpu = () => side.pids.reduce((s, p) => s + cpuSecondsOf(p.pid), 0);
  const cpu0 = cpu();
  const self0 = selfCpuSeconds();
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const total = WARMUP + Math.round(RATE * DURATION_S);
  const delivered: number[] = [];
  const shown: number[] = [];
  const posts: number[] = [];
  let lost = 0;
  let notShown = 0;
  const runs: Promise<void>[] = [];
  const t0 = now();
  for (let i = 0; i < total; i++) {
    const wait = t0 + (i * 1000) / RATE - now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const conversationId = conversations[i % conversations.length];
    runs.push(
      (async () => {
        const sent = now();
        const id = await side.post(i, conversationId, `bench note ${i}`);
        const answered = now();
        const r = await tracker.settle(id, SOCKETS, viewersOf.get(conversationId) ?? 0, answered + SETTLE_MS);
        if (r.delivered === null) lost++;
        if (r.shown === null) notShown++;
        if (i < WARMUP) return;
        posts.push(answered - sent);
        if (r.delivered !== null) delivered.push(r.delivered - sent);
        if (r.shown !== null) shown.push(r.shown - sent);
      })(),
    );
  }
  await Promise.all(runs);
  loop.disable();
  const clientCpu = (selfCpuSeconds() - self0) / ((now() - t0) / 1000);
  clearInterval(sampler);
  sample();
  return {
    delivered: summarize(delivered),
    shown: summarize(shown),
    post: summarize(posts),
    lost,
    notShown,
    total,
    peakRssMb: peak,
    cpuMsPerEvent: ((cpu() - cpu0) * 1000) / total,
    requests: { ...tracker.requests },
    otherFrames: tracker.otherFrames,
    clientCpu,
    clientLoopP99: loop.percentile(99) / 1e6,
  };
}

async function main(): Promise<void> {
  const { db, close } = await benchDatabase();
  const children: ChildProcess[] = [];
  const closers: Array<() => void> = [];
  const pool = createPool(db.url, { max: 4, applicationName: 'bench-setup' });
  const raw = new pg.Pool({ connectionString: db.url, max: 2 });
  try {
    const startChild = async (mode: string, env: Record<string, string>) => {
      const child = forkChild(mode === '--server' ? import.meta.url : new URL('./realtime-ceiling.ts', import.meta.url).href, mode, { BENCH_DATABASE_URL: db.url, ...env });
      children.push(child);
      return readyOf<{ url: string; pid: number }>(child);
    };
    const [a, b] = await Promise.all([startChild('--server', {}), startChild('--server', {})]);

    // A workspace, its admin token, AGENTS agents signed in (the sockets share their sessions, as tabs do).
    const deps = { pool, clock: systemClock };
    const ownerId = await createUserAccount(deps, { email: 'owner@bench.test', name: 'Owner' });
    const { id: workspaceId } = await createWorkspace(deps, { name: 'Bench', slug: 'bench-realtime', ownerUserId: ownerId });
    const wsDeps = { pool, clock: systemClock, workspaceId, actor: { type: 'user' as const, id: ownerId } };
    const { token } = await createToken(wsDeps, 'owner', { name: 'bench', role: 'admin' });
    const agents: Array<{ cookie: string; id: string }> = [];
    for (let i = 0; i < AGENTS; i++) {
      const email = `agent${i}@bench.test`;
      await addMember(wsDeps, 'owner', { email, name: `Agent ${i}`, role: 'agent', password: 'bench password 123' });
      const res = await fetch(`${a.url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password: 'bench password 123' }) });
      const cookie = /rapport_session=[^;]+/.exec(res.headers.get('set-cookie') ?? '')?.[0];
      if (!cookie) throw new Error(`login failed: ${res.status}`);
      const session = (await (await fetch(`${a.url}/api/v1/auth/session`, { headers: { cookie } })).json().catch(() => ({}))) as { user?: { id?: string } };
      agents.push({ cookie, id: session.user?.id ?? `agent${i}` });
    }
    const auth = { authorization: `Bearer ${token}` };
    const api = async (base: string, method: string, path: string, body?: unknown) => {
      const res = await fetch(`${base}/api/v1/workspaces/${workspaceId}${path}`, {
        method,
        headers: { ...auth, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
      return res.json();
    };
    // Messages go to CONVERSATIONS conversations in turn, as in a real inbox.
    const conversations: string[] = [];
    for (let i = 0; i < CONVERSATIONS; i++) {
      const c = (await api(a.url, 'POST', '/conversations', { customer: { email: `customer${i}@bench.test`, name: `Customer ${i}` }, message: { body: 'hello' } })) as { id: string };
      conversations.push(c.id);
    }
    // What the app has cached: the inbox's first page, the counts, the open conversations (as agents see them).
    const agentGet = async (path: string) => (await fetch(`${a.url}/api/v1/workspaces/${workspaceId}${path}`, { headers: { cookie: agents[0].cookie } })).json();
    const rapportSeed = {
      list: { pages: [await agentGet('/conversations?status=open&limit=50')], pageParams: [null] } as ListData,
      counts: await agentGet('/conversations/counts'),
      views: new Map<string, Conversation>(),
    };
    for (const id of conversations) rapportSeed.views.set(id, (await agentGet(`/conversations/${id}`)) as Conversation);

    // The ceiling's tables: the same conversations (their agent view as JSON), no messages yet.
    await raw.query(CEILING_SCHEMA);
    for (const [id, v] of rapportSeed.views) {
      await raw.query('insert into bench_ceiling.conversations (id, view, revision, last_activity_at) values ($1, $2, $3, $4)', [id, v, v.revision ?? 0, v.lastActivityAt]);
    }
    // ... and their first messages, so a thread answers the same rows as Rapport's.
    for (const id of conversations) {
      const page = (await agentGet(`/conversations/${id}/messages?order=desc&limit=50`)) as {
        items: Array<{ type: string; author: { type: string; id: string | null; name: string | null }; body: string; html: string | null; metadata: unknown; createdAt: string }>;
      };
      for (const m of page.items) {
        await raw.query(
          'insert into bench_ceiling.messages (conversation_id, type, author_type, author_id, author_name, body_text, body_html, metadata, created_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9)',
          [id, m.type, m.author.type, m.author.id, m.author.name, m.body, m.html, m.metadata, m.createdAt],
        );
      }
    }
    const [ceilHttp, ceilWs1, ceilWs2] = await Promise.all([
      startChild('--ceiling-http', { BENCH_WORKSPACE_ID: workspaceId, BENCH_ACTOR_ID: ownerId }),
      startChild('--ceiling-ws', {}),
      startChild('--ceiling-ws', {}),
    ]);
    const ceilingSeed = {
      list: { pages: [await (await fetch(`${ceilHttp.url}/conversations`)).json()], pageParams: [null] } as ListData,
      counts: await (await fetch(`${ceilHttp.url}/conversations/counts`)).json(),
      views: rapportSeed.views,
    };

    const rapport: Side = {
      name: 'rapport',
      tracker: new Tracker(),
      post: async (i, id, body) => ((await api(i % 2 === 0 ? a.url : b.url, 'POST', `/conversations/${id}/messages`, { type: 'note', body })) as { id: string }).id,
      pids: [
        { name: 'instance A', pid: a.pid },
        { name: 'instance B', pid: b.pid },
      ],
    };
    const ceiling: Side = {
      name: 'ceiling',
      tracker: new Tracker(),
      post: async (_i, id, body) => {
        const res = await fetch(`${ceilHttp.url}/conversations/${id}/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: 'note', body }) });
        if (res.status !== 201) throw new Error(`ceiling POST: ${res.status}`);
        return ((await res.json()) as { id: string }).id;
      },
      pids: [
        { name: 'http', pid: ceilHttp.pid },
        { name: 'ws 1', pid: ceilWs1.pid },
        { name: 'ws 2', pid: ceilWs2.pid },
      ],
    };

    // SOCKETS tabs per side, half on each instance (or each ceiling ws process). VIEWERS tabs per
    // conversation have it open, alternating instances.
    const half = Math.floor(SOCKETS / 2);
    const viewersOf = new Map<string, number>();
    const openOf = (k: number): string | null => (k < CONVERSATIONS * VIEWERS ? conversations[Math.floor(k / VIEWERS) % CONVERSATIONS] : null);
    // Tab k is on instance k % 2; tabs VIEWERS*j .. VIEWERS*j+VIEWERS-1 open conversation j (VIEWERS = 2: one on each instance).
    for (let k = 0; k < SOCKETS; k++) {
      const open = openOf(k);
      if (open) viewersOf.set(open, (viewersOf.get(open) ?? 0) + 1);
    }
    const rapportWs = (base: string) => `${base.replace(/^http/, 'ws')}/api/v1/realtime?workspaceId=${workspaceId}`;
    for (const side of [rapport, ceiling]) {
      const started = now();
      for (let k0 = 0; k0 < SOCKETS; k0 += 50) {
        const batch: Promise<() => void>[] = [];
        for (let k = k0; k < Math.min(SOCKETS, k0 + 50); k++) {
          const onA = k % 2 === 0;
          const agent = agents[Math.floor(k / 2) % AGENTS];
          const target: TabTarget =
            side.name === 'rapport'
              ? { socketUrl: rapportWs(onA ? a.url : b.url), origin: onA ? a.url : b.url, cookie: agent.cookie, apiBase: onA ? a.url : b.url, open: openOf(k) }
              : { socketUrl: onA ? ceilWs1.url : ceilWs2.url, apiBase: ceilHttp.url, open: openOf(k) };
          batch.push(openTab(target, side, workspaceId, agent.id, side.name === 'rapport' ? rapportSeed : ceilingSeed));
        }
        closers.push(...(await Promise.all(batch)));
      }
      console.log(
        `${side.name}: ${SOCKETS} tabs open (${half} + ${SOCKETS - half}), ${[...viewersOf.values()].reduce((s, n) => s + n, 0)} with a conversation open, in ${fmt((now() - started) / 1000, 1)} s`,
      );
    }
    console.log(`rate ${RATE} notes/s for ${DURATION_S} s after ${WARMUP} warm-up notes, ${CONVERSATIONS} conversations in turn, ${VIEWERS} open tabs per conversation, ${RUNS} runs interleaved`);

    const results: Record<SideName, RoundResult[]> = { rapport: [], ceiling: [] };
    for (let run = 1; run <= RUNS; run++) {
      for (const side of [rapport, ceiling]) {
        const waited = side.name === 'rapport' ? await drained(pool) : 0;
        const r = await round(side, conversations, viewersOf);
        results[side.name].push(r);
        const rss = Object.entries(r.peakRssMb)
          .map(([n, mb]) => `${n} ${fmt(mb, 0)}`)
          .join(', ');
        console.log(
          `run ${run} ${side.name.padEnd(7)}: delivered p50 ${fmt(r.delivered.p50, 1)} p99 ${fmt(r.delivered.p99, 1)} ms; shown p50 ${fmt(r.shown.p50, 1)} p99 ${fmt(r.shown.p99, 1)} ms; POST p99 ${fmt(r.post.p99, 1)} ms; lost ${r.lost}/${r.total}, thread not refetched ${r.notShown}; requests ${JSON.stringify(r.requests)}; other frames ${r.otherFrames}; server CPU ${fmt(r.cpuMsPerEvent, 2)} ms/event; peak RSS MiB ${rss}; client process CPU ${fmt(r.clientCpu * 100, 0)}% of a core, event loop delay p99 ${fmt(r.clientLoopP99, 1)} ms${waited ? ` (backlog drained in ${fmt(waited, 1)} s before)` : ''}`,
        );
      }
    }

    const R = results.rapport;
    const C = results.ceiling;
    const ratio = R.map((r, i) => r.delivered.p99 / C[i].delivered.p99);
    const shownRatio = R.map((r, i) => r.shown.p99 / C[i].shown.p99);
    const lost = [...R, ...C].reduce((s, r) => s + r.lost, 0);
    console.log(`\nover ${RUNS} runs, min / median / max (ms):`);
    console.log(
      `  Rapport  POST -> last of ${SOCKETS} sockets  p50 ${fmtRuns(
        R.map((r) => r.delivered.p50),
        1,
      )}   p99 ${fmtRuns(
        R.map((r) => r.delivered.p99),
        1,
      )}`,
    );
    console.log(
      `  ceiling  POST -> last of ${SOCKETS} sockets  p50 ${fmtRuns(
        C.map((r) => r.delivered.p50),
        1,
      )}   p99 ${fmtRuns(
        C.map((r) => r.delivered.p99),
        1,
      )}`,
    );
    console.log(`  ratio of p99s (Rapport / ceiling, same run): ${fmtRuns(ratio, 2)}`);
    console.log(
      `  Rapport  POST -> last open tab's thread refetched  p99 ${fmtRuns(
        R.map((r) => r.shown.p99),
        1,
      )}`,
    );
    console.log(
      `  ceiling  POST -> last open tab's thread refetched  p99 ${fmtRuns(
        C.map((r) => r.shown.p99),
        1,
      )}   (ratio ${fmtRuns(shownRatio, 2)}; includes the app's 100 ms batch)`,
    );
    console.log(
      `  the POST alone p99: Rapport ${fmtRuns(
        R.map((r) => r.post.p99),
        1,
      )}, ceiling ${fmtRuns(
        C.map((r) => r.post.p99),
        1,
      )}`,
    );
    const mean = (bytes: number, n: number) => (n ? fmt(bytes / n, 0) : '-');
    const sizes = (t: Tracker) => `frame ${mean(t.frameBytes, t.frames)} B, thread answer ${mean(t.threadBytes, t.threadAnswers)} B`;
    console.log(`  mean sizes (JSON, decoded): Rapport ${sizes(rapport.tracker)}; ceiling ${sizes(ceiling.tracker)}`);
    const perEvent = (rs: RoundResult[], k: keyof Tracker['requests']) =>
      fmtRuns(
        rs.map((r) => r.requests[k] / r.total),
        2,
      );
    console.log(
      `  requests per event the app made: Rapport thread ${perEvent(R, 'thread')}, list ${perEvent(R, 'list')}, detail ${perEvent(R, 'detail')}, counts ${perEvent(R, 'counts')}; ceiling thread ${perEvent(C, 'thread')}, list ${perEvent(C, 'list')}, detail ${perEvent(C, 'detail')}, counts ${perEvent(C, 'counts')}`,
    );
    for (const [side, rs] of [
      ['Rapport', R],
      ['ceiling', C],
    ] as const) {
      const names = Object.keys(rs[0].peakRssMb);
      console.log(
        `  peak RSS MiB, ${side}: ${names
          .map(
            (n) =>
              `${n} ${fmtRuns(
                rs.map((r) => r.peakRssMb[n]),
                0,
              )}`,
          )
          .join('; ')}; server CPU ms/event ${fmtRuns(
          rs.map((r) => r.cpuMsPerEvent),
          2,
        )}`,
      );
    }
    console.log(
      `  client process (all tabs, one event loop): CPU % of a core Rapport ${fmtRuns(
        R.map((r) => r.clientCpu * 100),
        0,
      )}, ceiling ${fmtRuns(
        C.map((r) => r.clientCpu * 100),
        0,
      )}; event loop delay p99 ms Rapport ${fmtRuns(
        R.map((r) => r.clientLoopP99),
        1,
      )}, ceiling ${fmtRuns(
        C.map((r) => r.clientLoopP99),
        1,
      )} (near 100% or a large delay: the client, not the servers, bounds the figures)`,
    );
    console.log(`lost events (not on every socket within ${SETTLE_MS / 1000} s): ${lost} (must be 0)`);
    const median = minMedianMax(ratio).median;
    console.log(`goal p99 <= 3x the ceiling's, no lost event: ${median <= 3 && lost === 0 ? 'met' : 'NOT met'} (median ratio ${fmt(median, 2)})`);
    console.log(
      `machine: ${os.cpus().length} cores, load average at the end ${os
        .loadavg()
        .map((l) => fmt(l))
        .join(' / ')} (figures are only comparable at low load)`,
    );
  } finally {
    for (const c of closers) c();
    // A child that does not stop within 15 s is killed (the figures are printed already).
    await Promise.all(children.map((c) => Promise.race([stopChild(c), new Promise<void>((r) => setTimeout(r, 15_000).unref())]).then(() => c.exitCode === null && c.kill('SIGKILL'))));
    await pool.end();
    await raw.end();
    await close();
  }
}

if (process.argv[2] === '--server') void serverMain();
else {
  // Seen once at shutdown: graphile-worker completing a batched job after the pool ended. Reported,
  // not fatal, so the figures already printed stand (it is a stop-order matter of src/server.ts).
  process.on('unhandledRejection', (error) => process.stderr.write(`warning: unhandled rejection: ${(error as Error)?.message}\n`));
  main().then(
    () => process.exit(0),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
