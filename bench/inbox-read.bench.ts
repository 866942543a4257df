/**
 * Inbox read path (issue 3): GET /api/v1/workspaces/:ws/conversations with 1,000,000 conversations in
 * the measured workspace and 1,000,000 in a second one, first page and cursor pages deep in the list,
 * p50/p95/p99, next to the same SQL sent straight through `pg` (the raw ceiling), plus EXPLAIN
 * (ANALYZE, BUFFERS) of the repository's SQL.
 *
 * Data: generated with INSERT ... SELECT generate_series as the superuser (session_replication_role =
 * replica skips the foreign-key triggers; the data is consistent by construction), with the
 * migration's secondary indexes dropped during the load and re-created from their own definitions
 * after it, then VACUUM ANALYZE. Per workspace: 20 agents, 5 teams, 3 inboxes, 500,000 customers
 * (one email identity each), 1,000,000 conversations (BENCH_CONVERSATIONS to change) and one inbound
 * message per conversation. Status: 20% open, 10% pending, 5% snoozed, 40% resolved, 25% closed;
 * open/pending/snoozed were active in the last 60 days, the rest over two years; 10% unassigned,
 * the rest spread over the 20 agents; 20% without team.
 *
 * Search (issue #8, M7): q= with rare and common words, a miss, a customer email and a #number
 * (hit and miss), HTTP next to the pg ceiling of the same statements; the write path's search
 * documents are loaded as the application writes them (conversations.repository.ts).
 *
 * Global search (issue #10): GET /search (customers and conversations in every status, grouped) for
 * an email, a name prefix, rare and common words, a miss, a #number, and with a status and a date
 * filter, HTTP next to the pg ceiling of the statements the search service sent.
 *
 * Requests: real HTTP over one keep-alive connection, one at a time, client and server in this process
 * (nothing else runs, so the event loop is not shared under load). The ceiling runs what the service
 * runs per request: begin, set_config('app.workspace_id'), the repository's list SQL, commit.
 */
import http from 'node:http';
import pg from 'pg';
import { loadConfig } from '../src/config.js';
import type { Queryable } from '../src/db/pool.js';
import { withWorkspace } from '../src/db/tenancy.js';
import { decodeCursor, encodeCursor } from '../src/lib/cursor.js';
import { conversationsRepository, type ListFilter, type SortOrder } from '../src/modules/conversations/conversations.repository.js';
import { searchPage, searchWords } from '../src/modules/conversations/conversations.search.service.js';
import { search } from '../src/modules/search/search.service.js';
import { SearchLimiter } from '../src/modules/conversations/conversations.search.limiter.js';
import { systemClock } from '../src/lib/clock.js';
import type { PoolClient } from '../src/db/pool.js';
import { addMember, createToken, createUserAccount, createWorkspace } from '../src/modules/workspaces/workspaces.service.js';
import { startRapport, type Rapport } from '../src/server.js';
import os from 'node:os';
import { benchDatabase, fmt, postgresCpuSeconds, selfCpuSeconds, summarize } from './lib.js';

const N = Number(process.env.BENCH_CONVERSATIONS ?? 1_000_000);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 500);
const AGENTS = 20;
const TEAMS = 5;
const LIMIT = 50;

interface Workspace {
  id: string;
  token: string;
  agents: string[];
  teams: string[];
  inboxes: string[];
}

const step = async <T>(label: string, fn: () => Promise<T>): Promise<T> => {
  const t0 = performance.now();
  const result = await fn();
  console.log(`  ${label}: ${fmt((performance.now() - t0) / 1000, 1)} s`);
  return result;
};

async function makeWorkspace(rapport: Rapport, admin: pg.Client, slug: string): Promise<Workspace> {
  const deps = rapport.server;
  const ownerId = await createUserAccount(deps, { email: `owner-${slug}@bench.test`, name: `Owner ${slug}` });
  const { id, inboxId } = await createWorkspace(deps, { name: `Bench ${slug}`, slug, ownerUserId: ownerId });
  const wsDeps = { pool: deps.pool, clock: deps.clock, workspaceId: id, actor: { type: 'user' as const, id: ownerId } };
  const { token } = await createToken(wsDeps, 'owner', { name: 'bench', role: 'admin' });
  const agents: string[] = [];
  for (let i = 1; i <= AGENTS; i++) agents.push((await addMember(wsDeps, 'owner', { email: `agent${i}-${slug}@bench.test`, name: `Agent ${i}`, role: 'agent' })).id);
  const teams = (
    await admin.query<{ id: string }>(`insert into teams (workspace_id, name, created_at) select $1, 'Team ' || i, now() from generate_series(1, ${TEAMS}) i returning id`, [id])
  ).rows.map((r) => r.id);
  const more = (
    await admin.query<{ id: string }>(`insert into inboxes (workspace_id, name, channel, created_at) select $1, 'Inbox ' || i, 'api', now() from generate_series(2, 3) i returning id`, [id])
  ).rows.map((r) => r.id);
  return { id, token, agents, teams, inboxes: [inboxId, ...more] };
}

/** Fills one workspace; runs on its own connection so the two workspaces load in parallel. */
async function generate(client: pg.Client, w: Workspace, now: Date): Promise<void> {
  const customers = Math.max(1, Math.floor(N / 2));
  await client.query("set session_replication_role = replica; set synchronous_commit = off; set work_mem = '256MB'");
  await client.query(
    `insert into customers (workspace_id, id, name, created_at, updated_at)
     select $1, md5($1::uuid::text || ':c:' || i)::uuid, 'Customer ' || i, t, t
     from generate_series(1, $2::int) i, lateral (select $3::timestamptz - (i::float8 / $2) * interval '730 days' as t) x`,
    [w.id, customers, now],
  );
  await client.query(
    `insert into customer_identities (workspace_id, customer_id, kind, value, created_at)
     select $1, md5($1::uuid::text || ':c:' || i)::uuid, 'email', 'customer' || i || '@' || left($1::uuid::text, 8) || '.example.test', $3
     from generate_series(1, $2::int) i`,
    [w.id, customers, now],
  );
  await client.query(
    `insert into conversations (workspace_id, id, number, inbox_id, customer_id, subject, status, snoozed_until, priority, assignee_id,
       team_id, tags, created_at, updated_at, last_activity_at, last_public_activity_at, waiting_since, first_response_at, resolved_at,
       last_message_preview, last_message_type, message_count)
     select $1, md5($1::uuid::text || ':v:' || i)::uuid, 1000 + i, ($4::uuid[])[1 + i % 3], md5($1::uuid::text || ':c:' || (1 + i % $3::int))::uuid,
       'Order ' || i || ' has not arrived', st, case when st = 'snoozed' then $7::timestamptz + interval '1 day' end,
       (array['low', 'normal', 'normal', 'normal', 'high', 'urgent'])[1 + floor(r3 * 6)::int],
       case when r4 < 0.1 then null else ($5::uuid[])[1 + floor((r4 - 0.1) / 0.9 * ${AGENTS})::int] end,
       case when r5 < 0.2 then null else ($6::uuid[])[1 + floor((r5 - 0.2) / 0.8 * ${TEAMS})::int] end,
       case when r6 < 0.05 then '{vip}'::text[] else '{}'::text[] end,
       la - interval '2 hours', la, la, la,
       case when st = 'open' then la end,
       case when st <> 'open' then la - interval '1 hour' end,
       case when st in ('resolved', 'closed') then la end,
       'Hello, my order ' || i || ' was due on Monday and it has not arrived yet.', 'inbound', 1
     from (select i, random() r1, random() r2, random() r3, random() r4, random() r5, random() r6 from generate_series(1, $2::int) i) g,
     lateral (select case when r1 < 0.20 then 'open' when r1 < 0.30 then 'pending' when r1 < 0.35 then 'snoozed'
                          when r1 < 0.75 then 'resolved' else 'closed' end as st) s,
     lateral (select $7::timestamptz - case when st in ('open', 'pending', 'snoozed') then r2 * interval '60 days' else r2 * interval '730 days' end as la) l`,
    [w.id, N, customers, w.inboxes, w.agents, w.teams, now],
  );
  // What the tag triggers write (migration 0301; session_replication_role = replica skips triggers).
  await client.query(
    `insert into conversation_tags (workspace_id, conversation_id, tag, status, last_activity_at, last_public_activity_at, waiting_key)
     select workspace_id, id, t, status, last_activity_at, last_public_activity_at, coalesce(waiting_since, 'infinity') from conversations, unnest(tags) t
     where workspace_id = $1 and tags <> '{}'`,
    [w.id],
  );
  if (process.env.BENCH_MESSAGES !== 'false') {
    await client.query(
      `insert into messages (workspace_id, conversation_id, type, author_type, author_id, body_text, created_at)
       select workspace_id, id, 'inbound', 'customer', customer_id,
         'Hello, my order ' || number || ' was due on Monday and it has not arrived yet. Can you check where it is? Thanks, customer ' || customer_id,
         created_at
       from conversations where workspace_id = $1`,
      [w.id],
    );
  }
  // What the write path adds for search (conversations.repository.ts insert / insert_message).
  await client.query(
    `insert into search_documents (workspace_id, conversation_id, message_id, search)
     select workspace_id, id, null, subject_search from conversations where workspace_id = $1 and subject_search <> ''::tsvector`,
    [w.id],
  );
  if (process.env.BENCH_MESSAGES !== 'false') {
    await client.query(
      `insert into search_documents (workspace_id, conversation_id, message_id, search)
       select workspace_id, conversation_id, id, search from messages where workspace_id = $1 and search <> ''::tsvector`,
      [w.id],
    );
  }
  await client.query(
    `insert into events (workspace_id, conversation_id, type, actor_type, data, created_at, dispatched_at)
     values ($1, null, 'bench.loaded', 'system', jsonb_build_object('conversations', $2::int), now(), now())`,
    [w.id, N],
  );
}

const TABLES = ['customers', 'customer_identities', 'conversations', 'conversation_tags', 'messages', 'search_documents'];

async function withIndexesDropped(admin: pg.Client, adminUrl: string, load: () => Promise<void>): Promise<void> {
  const { rows: indexes } = await admin.query<{ name: string; def: string; table: string }>(
    `select i.indexname as name, i.indexdef as def, i.tablename as table from pg_indexes i
     where i.schemaname = 'public' and i.tablename = any($1)
       and not exists (select 1 from pg_constraint c where c.conname = i.indexname)`,
    [TABLES],
  );
  for (const ix of indexes) await admin.query(`drop index ${admin.escapeIdentifier(ix.name)}`);
  await load();
  // Re-create on two connections (two cores), biggest first.
  const queue = [...indexes].sort((a, b) => (b.def.includes('gin') ? 1 : 0) - (a.def.includes('gin') ? 1 : 0));
  const worker = async () => {
    const c = new pg.Client({ connectionString: adminUrl });
    await c.connect();
    await c.query("set maintenance_work_mem = '512MB'; set max_parallel_maintenance_workers = 0");
    try {
      for (let ix = queue.shift(); ix; ix = queue.shift()) await c.query(ix.def);
    } finally {
      await c.end();
    }
  };
  await Promise.all([worker(), worker()]);
  const { rows } = await admin.query<{ n: string }>(
    `select count(*) as n from pg_indexes i where i.schemaname = 'public' and i.tablename = any($1)
       and not exists (select 1 from pg_constraint c where c.conname = i.indexname)`,
    [TABLES],
  );
  if (Number(rows[0].n) !== indexes.length) throw new Error('an index was not re-created');
  console.log(`  (${indexes.length} secondary indexes dropped for the load and re-created from their definitions)`);
}

/** One keep-alive connection, one request at a time. */
function httpClient(baseUrl: string, token: string) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const url = new URL(baseUrl);
  return {
    get(path: string): Promise<{ status: number; body: string }> {
      return new Promise((resolve, reject) => {
        const req = http.request({ host: url.hostname, port: url.port, path, method: 'GET', agent, headers: { authorization: `Bearer ${token}` } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end();
      });
    },
    close: () => agent.destroy(),
  };
}

/** The SQL and parameters the repository sends for a list call, without running it. */
async function captureListSql(ws: string, filter: ListFilter, after?: [string, string], sort: SortOrder = 'last_activity'): Promise<{ text: string; values: unknown[] }> {
  let captured: { text: string; values: unknown[] } | null = null;
  const recorder = {
    query: async (text: string, values: unknown[]) => {
      captured = { text, values };
      return { rows: [], rowCount: 0 };
    },
  } as unknown as Queryable;
  await conversationsRepository.list(recorder, ws, filter, sort, LIMIT, after);
  return captured!;
}

interface Case {
  name: string;
  query: (i: number) => string; // the query string (without cursor)
  filter: (i: number) => ListFilter;
  /** Where the sorted list for request i is: SQL filter for building cursors (as the app role). */
  where: (i: number) => { sql: string; params: unknown[] };
  variants: number; // how many distinct lists the requests cycle through (agents)
}

/**
 * Search (issue #8, M7): the words of one conversation (rare), of every conversation (common), of
 * none (miss), a customer's email and a #number, each over 20 variants so requests do not repeat one
 * answer. The ceiling replays, per request, the statements the service sent for that search (the
 * bounded steps of conversations.search.service.ts and the page's view select) in the same
 * transaction shape, straight through pg.
 */
async function searchCases(rapport: Rapport, A: Workspace, pgPort: number): Promise<string[]> {
  const pool = rapport.pool;
  const base = `/api/v1/workspaces/${A.id}/conversations`;
  const domain = `${A.id.slice(0, 8)}.example.test`;
  const pick = (k: number) => 1 + ((k * 7919 + 4242) % (N - 1));
  const cases: { name: string; q: (k: number) => string; expect: 'some' | 'none' | 'page' | 'any'; view?: { query: string; filter: ListFilter; sort: SortOrder } }[] = [
    { name: 'search one word, rare (hit)', q: (k) => String(pick(k)), expect: 'some' },
    { name: 'search one word, in every row', q: (k) => ['arrived', 'monday', 'hello', 'order'][k % 4], expect: 'page' },
    { name: 'search two words (hit)', q: (k) => `order ${pick(k)}`, expect: 'some' },
    { name: 'search one word (miss)', q: (k) => ['zeppelin', 'walrus', 'quixotic', 'xylophone'][k % 4], expect: 'none' },
    { name: 'search customer email (hit)', q: (k) => `customer${1 + (pick(k) % Math.floor(N / 2))}@${domain}`, expect: 'some' },
    { name: 'search customer email (miss)', q: (k) => `nobody${k}@${domain}`, expect: 'none' },
    { name: 'search #number (hit)', q: (k) => `#${1000 + pick(k)}`, expect: 'some' },
    { name: 'search #number (miss)', q: (k) => `#${10 * N + k}`, expect: 'none' },
    // Search within the app's views and orders (issue #14): the view's own index walk, then the word index.
    {
      name: 'search rare, open, waiting_longest',
      q: (k) => String(pick(k)),
      expect: 'any',
      view: { query: 'status=open&sort=waiting_longest', filter: { statuses: ['open'] }, sort: 'waiting_longest' },
    },
    {
      name: 'search common, tag vip view',
      q: (k) => ['arrived', 'monday', 'hello', 'order'][k % 4],
      expect: 'page',
      view: { query: 'status=open&status=pending&tag=vip', filter: { statuses: ['open', 'pending'], tag: 'vip' }, sort: 'last_activity' },
    },
    {
      name: 'search miss, priority urgent view',
      q: (k) => ['zeppelin', 'walrus', 'quixotic', 'xylophone'][k % 4],
      expect: 'none',
      view: { query: 'status=open&status=pending&priority=urgent&sort=waiting_longest', filter: { statuses: ['open', 'pending'], priority: 'urgent' }, sort: 'waiting_longest' },
    },
  ];
  const client = httpClient(rapport.url, A.token);
  const out: string[] = [];
  console.log('\nsearch (q=...), first page of 50:');
  try {
    for (const c of cases) {
      // The statements of each variant, recorded from the service's own calls (values included).
      const statements: { text: string; values: unknown[] }[][] = [];
      for (let k = 0; k < 20; k++) {
        const sent: { text: string; values: unknown[] }[] = [];
        await withWorkspace(pool, A.id, async (tx) => {
          const recorder = {
            query: (text: string | { text: string; values: unknown[] }, values?: unknown[]) => {
              const t = typeof text === 'string' ? { text, values: values ?? [] } : { text: text.text, values: text.values };
              sent.push(t);
              return tx.query(t.text, t.values);
            },
          } as unknown as Queryable;
          const page = await searchPage(recorder, A.id, c.view?.filter ?? {}, c.view?.sort ?? 'last_activity', undefined, searchWords(c.q(k)), LIMIT);
          await conversationsRepository.listByIds(recorder, A.id, page.ids, c.view?.sort ?? 'last_activity');
        });
        statements.push(sent);
      }
      const pathFor = (i: number) => `${base}?q=${encodeURIComponent(c.q(i % 20))}&limit=${LIMIT}${c.view ? `&${c.view.query}` : ''}`;
      for (let i = 0; i < 40; i++) await client.get(pathFor(i)); // warm-up
      let bad = 0;
      const httpSamples: number[] = [];
      const cpuH0 = { self: selfCpuSeconds(), pg: postgresCpuSeconds(pgPort) };
      for (let i = 0; i < REQUESTS; i++) {
        const s = performance.now();
        const res = await client.get(pathFor(i));
        httpSamples.push(performance.now() - s);
        const n = res.status === 200 ? (JSON.parse(res.body).items as unknown[]).length : -1;
        if (n < 0 || (c.expect === 'none' && n !== 0) || (c.expect === 'some' && n === 0) || (c.expect === 'page' && n !== LIMIT)) bad++;
      }
      const cpuH1 = { self: selfCpuSeconds(), pg: postgresCpuSeconds(pgPort) };
      const raw = await pool.connect();
      const rawSamples: number[] = [];
      try {
        const once = async (i: number) => {
          await raw.query('begin');
          await raw.query("select set_config('app.workspace_id', $1, true)", [A.id]);
          for (const st of statements[i % 20]) await raw.query(st.text, st.values);
          await raw.query('commit');
        };
        for (let i = 0; i < 40; i++) await once(i);
        for (let i = 0; i < REQUESTS; i++) {
          const s = performance.now();
          await once(i);
          rawSamples.push(performance.now() - s);
        }
      } finally {
        raw.release();
      }
      const h = summarize(httpSamples);
      const r = summarize(rawSamples);
      const steps = statements.map((s) => s.length);
      const line = `${c.name.padEnd(34)} e.g. q=${JSON.stringify(c.q(0)).padEnd(28)}: HTTP p50 ${fmt(h.p50)} p95 ${fmt(h.p95)} p99 ${fmt(h.p99)} ms | pg ceiling p50 ${fmt(r.p50)} p95 ${fmt(r.p95)} p99 ${fmt(r.p99)} ms | statements ${Math.min(...steps)}..${Math.max(...steps)} | p95 <= 50 ms: ${h.p95 <= 50 ? 'met' : 'MISSED'}${bad ? ` | ${bad} bad answers` : ''}`;
      const cpu = `CPU ms/request: HTTP node ${fmt(((cpuH1.self - cpuH0.self) * 1000) / REQUESTS)} + pg ${fmt(((cpuH1.pg - cpuH0.pg) * 1000) / REQUESTS)}`;
      console.log(`  ${line}\n      ${cpu}`);
      out.push(`${line}\n      ${cpu}`);
      if (process.env.BENCH_PLANS !== 'false') {
        await withWorkspace(pool, A.id, async (tx) => {
          for (const st of statements[0]) {
            if (/set_config/.test(st.text)) {
              await tx.query(st.text, st.values);
              continue;
            }
            const plan = await tx.query<{ 'QUERY PLAN': string }>(`explain (analyze, buffers, costs off) ${st.text}`, st.values);
            const lines = plan.rows.map((x) => x['QUERY PLAN']);
            const scans = lines
              .filter((l) => /Scan on|Scan using/.test(l))
              .map((l) =>
                l
                  .trim()
                  .replace(/\(actual.*$/, '')
                  .slice(0, 110),
              );
            console.log(`      [${lines.find((l) => l.startsWith('Execution Time'))}] ${[...new Set(scans)].join('; ')}`);
          }
        });
      }
    }
  } finally {
    client.close();
  }
  return out;
}

/**
 * The global search (issue #10): GET /search, first page of 25 conversations and up to 10 customers,
 * each case over 20 variants. The ceiling replays per request the statements the search service sent
 * for that variant (customers, then the bounded conversation steps, the page and its match excerpts).
 */
async function globalSearchCases(rapport: Rapport, A: Workspace, pgPort: number): Promise<string[]> {
  const pool = rapport.pool;
  const base = `/api/v1/workspaces/${A.id}/search`;
  const domain = `${A.id.slice(0, 8)}.example.test`;
  const pick = (k: number) => 1 + ((k * 7919 + 4242) % (N - 1));
  const PAGE = 25;
  const common = ['arrived', 'monday', 'hello', 'order'];
  const misses = ['zeppelin', 'walrus', 'quixotic', 'xylophone'];
  const cases: { name: string; q: (k: number) => string; query?: Record<string, string>; expect: 'some' | 'none' | 'page' | 'any' }[] = [
    { name: 'global: customer email (hit)', q: (k) => `customer${1 + (pick(k) % Math.floor(N / 2))}@${domain}`, expect: 'some' },
    { name: 'global: customer name prefix', q: (k) => `Customer ${1 + (pick(k) % Math.floor(N / 2))}`, expect: 'some' },
    { name: 'global: one word, rare (hit)', q: (k) => String(pick(k)), expect: 'some' },
    { name: 'global: one word, in every row', q: (k) => common[k % 4], expect: 'page' },
    { name: 'global: one word (miss)', q: (k) => misses[k % 4], expect: 'none' },
    { name: 'global: #number (hit)', q: (k) => `#${1000 + pick(k)}`, expect: 'some' },
    { name: 'global: common, snoozed only', q: (k) => common[k % 4], query: { status: 'snoozed' }, expect: 'page' },
    { name: 'global: common, 7 days of activity', q: (k) => common[k % 4], query: { from: new Date(Date.now() - 7 * 86_400_000).toISOString() }, expect: 'any' },
  ];
  const client = httpClient(rapport.url, A.token);
  const limiter = new SearchLimiter(systemClock, { perMinute: 1e9, burst: 1e9 });
  const out: string[] = [];
  console.log(`\nglobal search (GET /search), first page of ${PAGE} conversations and up to 10 customers:`);
  try {
    for (const c of cases) {
      const statements: { text: string; values: unknown[] }[][] = [];
      for (let k = 0; k < 20; k++) {
        const sent: { text: string; values: unknown[] }[] = [];
        await withWorkspace(pool, A.id, async (tx) => {
          const recorder = {
            query: (text: string | { text: string; values: unknown[] }, values?: unknown[]) => {
              const t = typeof text === 'string' ? { text, values: values ?? [] } : { text: text.text, values: text.values };
              sent.push(t);
              return tx.query(t.text, t.values);
            },
          } as unknown as PoolClient;
          const ctx = { pool, clock: systemClock, workspaceId: A.id, actor: { type: 'token' as const, id: null }, tx: recorder, userId: null, searchLimiter: limiter };
          await search(ctx, { q: c.q(k), limit: PAGE, ...c.query }, 'internal');
        });
        statements.push(sent);
      }
      const pathFor = (i: number) => `${base}?${new URLSearchParams({ q: c.q(i % 20), limit: String(PAGE), ...c.query })}`;
      for (let i = 0; i < 40; i++) await client.get(pathFor(i)); // warm-up
      let bad = 0;
      const httpSamples: number[] = [];
      const cpuH0 = { self: selfCpuSeconds(), pg: postgresCpuSeconds(pgPort) };
      for (let i = 0; i < REQUESTS; i++) {
        const s = performance.now();
        const res = await client.get(pathFor(i));
        httpSamples.push(performance.now() - s);
        const n = res.status === 200 ? (JSON.parse(res.body).conversations.items as unknown[]).length : -1;
        if (n < 0 || (c.expect === 'none' && n !== 0) || (c.expect === 'some' && n === 0) || (c.expect === 'page' && n !== PAGE)) bad++;
      }
      const cpuH1 = { self: selfCpuSeconds(), pg: postgresCpuSeconds(pgPort) };
      const raw = await pool.connect();
      const rawSamples: number[] = [];
      try {
        const once = async (i: number) => {
          await raw.query('begin');
          await raw.query("select set_config('app.workspace_id', $1, true)", [A.id]);
          for (const st of statements[i % 20]) await raw.query(st.text, st.values);
          await raw.query('commit');
        };
        for (let i = 0; i < 40; i++) await once(i);
        for (let i = 0; i < REQUESTS; i++) {
          const s = performance.now();
          await once(i);
          rawSamples.push(performance.now() - s);
        }
      } finally {
        raw.release();
      }
      const h = summarize(httpSamples);
      const r = summarize(rawSamples);
      const steps = statements.map((s) => s.length);
      const line = `${c.name.padEnd(38)} e.g. q=${JSON.stringify(c.q(0)).padEnd(28)}: HTTP p50 ${fmt(h.p50)} p95 ${fmt(h.p95)} p99 ${fmt(h.p99)} ms | pg ceiling p50 ${fmt(r.p50)} p95 ${fmt(r.p95)} p99 ${fmt(r.p99)} ms | statements ${Math.min(...steps)}..${Math.max(...steps)} | p95 <= 50 ms: ${h.p95 <= 50 ? 'met' : 'MISSED'}${bad ? ` | ${bad} bad answers` : ''}`;
      const cpu = `CPU ms/request: HTTP node ${fmt(((cpuH1.self - cpuH0.self) * 1000) / REQUESTS)} + pg ${fmt(((cpuH1.pg - cpuH0.pg) * 1000) / REQUESTS)}`;
      console.log(`  ${line}\n      ${cpu}`);
      out.push(`${line}\n      ${cpu}`);
    }
  } finally {
    client.close();
  }
  return out;
}

/**
 * Every view, filter and order the app offers (issue #14; web/src/screens/inbox/views.ts and the sort
 * menu), first page and a cursor 1,000 rows deep, each over RUNS runs of VIEW_REQUESTS requests:
 * HTTP next to the repository's same SQL through pg (the ceiling), and the indexes its EXPLAIN
 * (ANALYZE) shows. Goal: p95 <= 50 ms over HTTP, each served by an index (no sequential scan, no
 * sort of more rows than a page).
 */
async function viewCases(rapport: Rapport, A: Workspace): Promise<{ lines: string[]; failed: boolean }> {
  const RUNS = Number(process.env.BENCH_RUNS ?? 3);
  const VIEW_REQUESTS = Number(process.env.BENCH_VIEW_REQUESTS ?? 100);
  const pool = rapport.pool;
  const base = `/api/v1/workspaces/${A.id}/conversations`;
  const views: { name: string; query: string; filter: ListFilter; empty?: boolean }[] = [
    { name: 'mine (open, assignee)', query: `status=open&assignee=${A.agents[3]}`, filter: { statuses: ['open'], assignee: { kind: 'user', id: A.agents[3] } } },
    { name: 'unassigned (open)', query: 'status=open&assignee=none', filter: { statuses: ['open'], assignee: { kind: 'none' } } },
    { name: 'open', query: 'status=open', filter: { statuses: ['open'] } },
    { name: 'pending', query: 'status=pending', filter: { statuses: ['pending'] } },
    { name: 'snoozed', query: 'status=snoozed', filter: { statuses: ['snoozed'] } },
    { name: 'resolved', query: 'status=resolved', filter: { statuses: ['resolved'] } },
    { name: 'team (open)', query: `status=open&team=${A.teams[1]}`, filter: { statuses: ['open'], team: { kind: 'team', id: A.teams[1] } } },
    { name: 'priority urgent (open+pending)', query: 'status=open&status=pending&priority=urgent', filter: { statuses: ['open', 'pending'], priority: 'urgent' } },
    { name: 'tag vip (open+pending)', query: 'status=open&status=pending&tag=vip', filter: { statuses: ['open', 'pending'], tag: 'vip' } },
    { name: 'tag with no rows', query: 'status=open&status=pending&tag=no-such-tag', filter: { statuses: ['open', 'pending'], tag: 'no-such-tag' }, empty: true },
    { name: 'all conversations', query: '', filter: {} },
  ];
  const client = httpClient(rapport.url, A.token);
  const lines: string[] = [];
  let failed = false;
  console.log(`\nevery view x order, first page and 1,000 deep (${RUNS} runs x ${VIEW_REQUESTS} requests each):`);
  try {
    for (const sort of ['last_activity', 'waiting_longest'] as SortOrder[]) {
      for (const v of views) {
        const query = `${v.query}${v.query ? '&' : ''}sort=${sort}&limit=${LIMIT}`;
        // The cursor 1,000 rows deep, by following the API's own cursors (20 pages of 50).
        let cursor: string | null = null;
        for (let page = 0; page < 1000 / LIMIT && !v.empty; page++) {
          const body = JSON.parse((await client.get(`${base}?${query}${cursor ? `&cursor=${cursor}` : ''}`)).body);
          cursor = body.nextCursor;
          if (!cursor) break;
        }
        const positions: { label: string; cursor: string | null }[] = [{ label: 'first page', cursor: null }];
        if (cursor) positions.push({ label: '1,000 deep', cursor });
        for (const pos of positions) {
          // The repository's SQL for this page (the cursor decoded as the service decodes it).
          const decoded = pos.cursor ? (decodeCursor(pos.cursor, [sort === 'waiting_longest' ? 'timestamp?' : 'timestamp', 'uuid']) as [string, string]) : undefined;
          const sql = await captureListSql(A.id, v.filter, decoded, sort);
          const path = `${base}?${query}${pos.cursor ? `&cursor=${pos.cursor}` : ''}`;
          const want = v.empty ? 0 : LIMIT;
          const runs: { h: ReturnType<typeof summarize>; r: ReturnType<typeof summarize> }[] = [];
          let bad = 0;
          for (let run = 0; run < RUNS; run++) {
            for (let i = 0; i < 20; i++) await client.get(path); // warm-up
            const httpSamples: number[] = [];
            for (let i = 0; i < VIEW_REQUESTS; i++) {
              const t = performance.now();
              const res = await client.get(path);
              httpSamples.push(performance.now() - t);
              if (res.status !== 200 || (JSON.parse(res.body).items as unknown[]).length !== want) bad++;
            }
            const raw = await pool.connect();
            const rawSamples: number[] = [];
            try {
              const once = async () => {
                await raw.query('begin');
                await raw.query("select set_config('app.workspace_id', $1, true)", [A.id]);
                const r = await raw.query(sql.text, sql.values);
                await raw.query('commit');
                if (r.rowCount !== want) bad++;
              };
              for (let i = 0; i < 20; i++) await once();
              for (let i = 0; i < VIEW_REQUESTS; i++) {
                const t = performance.now();
                await once();
                rawSamples.push(performance.now() - t);
              }
            } finally {
              raw.release();
            }
            runs.push({ h: summarize(httpSamples), r: summarize(rawSamples) });
          }
          const plan = await withWorkspace(pool, A.id, (tx) => tx.query<{ 'QUERY PLAN': string }>(`explain (analyze, buffers) ${sql.text}`, sql.values));
          const planLines = plan.rows.map((r) => r['QUERY PLAN']);
          const indexes = [...new Set(planLines.map((l) => /(Index(?: Only)? Scan|Bitmap Index Scan) (?:using|on) (\w+)/.exec(l)?.[2]).filter((x): x is string => !!x && /^conversation/.test(x)))];
          const seq = planLines.some((l) => /Seq Scan on (conversations|conversation_tags|messages)/.test(l));
          // A sort is fine on a page's worth of rows (the merge of per-status walks, the view's final order).
          // Rows fed to each Sort node (its first child's actual rows x loops): a page's worth is the merge of
          // per-status walks or the view's final order; more means a filter's rows were sorted.
          const indent = (l: string) => l.length - l.trimStart().length;
          const sortedRows = planLines.flatMap((l, k) => {
            if (!/(^|->\s+)Sort \(/.test(l.trim())) return [];
            const child = planLines.slice(k + 1).find((c) => c.trim().startsWith('->') && indent(c) > indent(l));
            const m = child ? /rows=([\d.]+) loops=(\d+)/.exec(child) : null;
            return [m ? Number(m[1]) * Number(m[2]) : 0];
          });
          const bigSort = sortedRows.some((n) => n > LIMIT * 5);
          const exec = planLines.find((l) => l.startsWith('Execution Time'))?.replace('Execution Time: ', '') ?? '?';
          const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
          const p95s = runs.map((x) => x.h.p95);
          const hp50 = med(runs.map((x) => x.h.p50));
          const rp50 = med(runs.map((x) => x.r.p50));
          const rp95 = med(runs.map((x) => x.r.p95));
          const met = med(p95s) <= 50 && !seq && !bigSort && indexes.length > 0;
          if (!met || bad) failed = true;
          const line = `${sort.padEnd(15)} ${v.name.padEnd(31)} ${pos.label.padEnd(10)}: HTTP p50 ${fmt(hp50)} p95 min/med/max ${fmt(Math.min(...p95s))}/${fmt(med(p95s))}/${fmt(Math.max(...p95s))} ms | pg ceiling p50 ${fmt(rp50)} p95 ${fmt(rp95)} ms | ratio p50 ${fmt(rp50 / hp50)} | EXPLAIN ${exec}, via ${indexes.join(', ') || 'NO INDEX'}${seq ? ', SEQ SCAN' : ''}${bigSort ? `, SORT of ${Math.max(...sortedRows)} rows` : ''} | p95 <= 50 ms: ${met ? 'met' : 'MISSED'}${bad ? ` | ${bad} bad answers` : ''}`;
          console.log(`  ${line}`);
          lines.push(line);
          if (process.env.BENCH_PLANS === 'all') for (const l of planLines) console.log(`      ${l}`);
        }
      }
    }
  } finally {
    client.close();
  }
  return { lines, failed };
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const { db, close } = await benchDatabase();
  const adminUrl = db.adminUrl.replace(/\/postgres$/, '/rapport');
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  let rapport: Rapport | null = null;
  let failed = false;
  try {
    // Search pacing off: this bench measures the search itself, one request at a time.
    rapport = await startRapport(loadConfig({}, { databaseUrl: db.url, port: 0, smtpPort: 0, seedDemo: false, logLevel: 'silent', searchRateBurst: 1e9, searchRatePerMinute: 1e9 }), {
      print: () => {},
    });
    const A = await makeWorkspace(rapport, admin, 'bench-a');
    const B = await makeWorkspace(rapport, admin, 'bench-b');
    console.log(`generating ${N.toLocaleString('en')} conversations in each of 2 workspaces${process.env.BENCH_MESSAGES === 'false' ? ' (no messages)' : ', one message each'}:`);
    const now = new Date();
    await step('load (customers, identities, conversations, messages; both workspaces in parallel) + index builds', () =>
      withIndexesDropped(admin, adminUrl, async () => {
        const c2 = new pg.Client({ connectionString: adminUrl });
        await c2.connect();
        try {
          await Promise.all([generate(admin, A, now), generate(c2, B, now)]);
        } finally {
          await c2.end();
        }
        await admin.query('reset session_replication_role; reset synchronous_commit; reset work_mem');
      }),
    );
    await step('vacuum analyze', async () => {
      for (const t of ['customers', 'customer_identities', 'conversations', 'conversation_tags', 'messages', 'events']) await admin.query(`vacuum (analyze) ${t}`);
    });
    const sizes = await admin.query<{ t: string; rows: string; size: string }>(
      `select c.relname as t, c.reltuples::bigint::text as rows, pg_size_pretty(pg_total_relation_size(c.oid)) as size
       from pg_class c where c.relname = any($1) order by c.relname`,
      [[...TABLES, 'events']],
    );
    console.log(`  tables: ${sizes.rows.map((r) => `${r.t} ${Number(r.rows).toLocaleString('en')} rows ${r.size}`).join('; ')}`);
    const dist = await admin.query<{ status: string; n: string }>('select status, count(*)::text as n from conversations where workspace_id = $1 group by status order by status', [A.id]);
    console.log(`  workspace A by status: ${dist.rows.map((r) => `${r.status} ${r.n}`).join(', ')}`);

    const pool = rapport.pool;
    const base = `/api/v1/workspaces/${A.id}/conversations`;
    const cases: Case[] = [
      {
        name: 'open, assignee, by last activity',
        variants: AGENTS,
        query: (i) => `status=open&assignee=${A.agents[i % AGENTS]}&limit=${LIMIT}`,
        filter: (i) => ({ statuses: ['open'], assignee: { kind: 'user', id: A.agents[i % AGENTS] } }),
        where: (i) => ({ sql: "status = 'open' and assignee_id = $2", params: [A.agents[i % AGENTS]] }),
      },
      {
        name: 'open, any assignee',
        variants: 1,
        query: () => `status=open&limit=${LIMIT}`,
        filter: () => ({ statuses: ['open'] }),
        where: () => ({ sql: "status = 'open'", params: [] }),
      },
      {
        name: 'all conversations',
        variants: 1,
        query: () => `limit=${LIMIT}`,
        filter: () => ({}),
        where: () => ({ sql: 'true', params: [] }),
      },
    ];

    const results: string[] = [];
    // BENCH_SEARCH_ONLY=true: only the search cases (the inbox list cases take most of the run).
    if (process.env.BENCH_SEARCH_ONLY !== 'true') {
      const client = httpClient(rapport.url, A.token);
      // Cursor pagination works: two pages follow each other without overlap, in order.
      {
        const p1 = JSON.parse((await client.get(`${base}?${cases[0].query(0)}`)).body);
        const p2 = JSON.parse((await client.get(`${base}?${cases[0].query(0)}&cursor=${p1.nextCursor}`)).body);
        const all = [...p1.items, ...p2.items] as { id: string; lastActivityAt: string; status: string; assigneeId: string }[];
        const ordered = all.every((c, k) => k === 0 || c.lastActivityAt <= all[k - 1].lastActivityAt);
        const distinct = new Set(all.map((c) => c.id)).size === all.length;
        const filtered = all.every((c) => c.status === 'open' && c.assigneeId === A.agents[0]);
        console.log(`cursor check (two pages of case 1): ${all.length} rows, ordered ${ordered}, distinct ${distinct}, filtered ${filtered}`);
        if (!ordered || !distinct || !filtered || all.length !== 2 * LIMIT) failed = true;
      }

      for (const c of cases) {
        const lengths: number[] = [];
        for (let v = 0; v < c.variants; v++) {
          const w = c.where(v);
          const { rows } = await withWorkspace(pool, A.id, (tx) => tx.query<{ n: string }>(`select count(*)::text as n from conversations where workspace_id = $1 and ${w.sql}`, [A.id, ...w.params]));
          lengths.push(Number(rows[0].n));
        }
        const shortest = Math.min(...lengths);
        const depths = [0, 1_000, 10_000, 100_000, 900_000, shortest - LIMIT].filter((d, k, all) => d >= 0 && d <= shortest - LIMIT && all.indexOf(d) === k);
        console.log(`\n${c.name}: ?${c.query(0)}  (list length ${lengths.length > 1 ? `${Math.min(...lengths)}..${Math.max(...lengths)} per agent` : lengths[0]})`);
        for (const depth of depths) {
          // 20 cursors per depth (different agents, or neighbouring positions) so requests do not all hit one page.
          const cursors: (string | null)[] = [];
          const afters: ([string, string] | undefined)[] = [];
          for (let k = 0; k < 20; k++) {
            if (depth === 0) {
              cursors.push(null);
              afters.push(undefined);
              continue;
            }
            const w = c.where(k);
            const offset = Math.min(depth - 1 + (c.variants > 1 ? 0 : k * 7), shortest - LIMIT - 1);
            const { rows } = await withWorkspace(pool, A.id, (tx) =>
              tx.query<{ key: string; id: string }>(
                `select last_activity_at::text as key, id from conversations where workspace_id = $1 and ${w.sql}
                 order by last_activity_at desc, id desc offset ${offset} limit 1`,
                [A.id, ...w.params],
              ),
            );
            cursors.push(encodeCursor([rows[0].key, rows[0].id]));
            afters.push([rows[0].key, rows[0].id]);
          }
          const pathFor = (i: number) => `${base}?${c.query(i)}${cursors[i % 20] ? `&cursor=${cursors[i % 20]}` : ''}`;
          for (let i = 0; i < 50; i++) await client.get(pathFor(i)); // warm-up
          const httpSamples: number[] = [];
          let bad = 0;
          const load0 = os.loadavg()[0];
          const cpuH0 = { self: selfCpuSeconds(), pg: postgresCpuSeconds(db.port) };
          for (let i = 0; i < REQUESTS; i++) {
            const s = performance.now();
            const res = await client.get(pathFor(i));
            httpSamples.push(performance.now() - s);
            if (res.status !== 200 || (JSON.parse(res.body).items as unknown[]).length !== LIMIT) bad++;
          }
          const cpuH1 = { self: selfCpuSeconds(), pg: postgresCpuSeconds(db.port) };
          const sqls = await Promise.all(Array.from({ length: 20 }, (_, k) => captureListSql(A.id, c.filter(k), afters[k])));
          const raw = await pool.connect();
          const rawSamples: number[] = [];
          let cpuR0 = { self: 0, pg: 0 };
          try {
            const once = async (i: number) => {
              await raw.query('begin');
              await raw.query("select set_config('app.workspace_id', $1, true)", [A.id]);
              const r = await raw.query(sqls[i % 20].text, sqls[i % 20].values);
              await raw.query('commit');
              if (r.rowCount !== LIMIT) bad++;
            };
            for (let i = 0; i < 50; i++) await once(i);
            cpuR0 = { self: selfCpuSeconds(), pg: postgresCpuSeconds(db.port) };
            for (let i = 0; i < REQUESTS; i++) {
              const s = performance.now();
              await once(i);
              rawSamples.push(performance.now() - s);
            }
          } finally {
            raw.release();
          }
          const cpuR1 = { self: selfCpuSeconds(), pg: postgresCpuSeconds(db.port) };
          const load1 = os.loadavg()[0];
          const per = (a: number, b: number) => fmt(((b - a) * 1000) / REQUESTS);
          const h = summarize(httpSamples);
          const r = summarize(rawSamples);
          const line = `${c.name.padEnd(34)} depth ${String(depth).padStart(7)}: HTTP p50 ${fmt(h.p50)} p95 ${fmt(h.p95)} p99 ${fmt(h.p99)} ms | pg ceiling p50 ${fmt(r.p50)} p95 ${fmt(r.p95)} p99 ${fmt(r.p99)} ms | ratio p50 ${fmt(r.p50 / h.p50)} | p95 <= 15 ms: ${h.p95 <= 15 ? 'met' : 'MISSED'}${bad ? ` | ${bad} bad answers` : ''}`;
          const cpuLine = `CPU ms/request: HTTP node ${per(cpuH0.self, cpuH1.self)} + pg ${per(cpuH0.pg, cpuH1.pg)}; ceiling node ${per(cpuR0.self, cpuR1.self)} + pg ${per(cpuR0.pg, cpuR1.pg)}; load average ${fmt(load0, 1)} -> ${fmt(load1, 1)}`;
          console.log(`  ${line}\n      ${cpuLine}`);
          results.push(`${line}\n      ${cpuLine}`);
          if (bad) failed = true;
        }
      }
      client.close();

      console.log('\nEXPLAIN (ANALYZE, BUFFERS) of the repository SQL, as the application role with app.workspace_id set:');
      for (const c of cases) {
        for (const deep of [false, true]) {
          const w = c.where(0);
          let after: [string, string] | undefined;
          if (deep) {
            const { rows } = await withWorkspace(pool, A.id, (tx) =>
              tx.query<{ key: string; id: string }>(
                `select last_activity_at::text as key, id from conversations where workspace_id = $1 and ${w.sql}
                 order by last_activity_at desc, id desc offset (select (count(*) * 9 / 10)::int from conversations where workspace_id = $1 and ${w.sql}) limit 1`,
                [A.id, ...w.params],
              ),
            );
            after = [rows[0].key, rows[0].id];
          }
          const sql = await captureListSql(A.id, c.filter(0), after);
          const plan = await withWorkspace(pool, A.id, (tx) => tx.query<{ 'QUERY PLAN': string }>(`explain (analyze, buffers) ${sql.text}`, sql.values));
          const lines = plan.rows.map((r) => r['QUERY PLAN']);
          const conv = lines.find((l) => /on conversations c/.test(l)) ?? '(no conversations scan?)';
          // Keyset means no sort of the conversations themselves (the identity subplans sort their own 1-2 rows).
          const sort = lines.some((l) => /Sort Key: c\./.test(l));
          const exec = lines.find((l) => l.startsWith('Execution Time')) ?? '';
          const planning = lines.find((l) => l.startsWith('Planning Time')) ?? '';
          console.log(
            `\n  [${c.name}, ${deep ? 'cursor 90% deep' : 'first page'}] conversations via: ${conv.trim()}; sort of conversations: ${sort ? 'YES' : 'no'}; index searches: ${lines.find((l) => /Index Searches/.test(l))?.trim() ?? '?'}; ${planning}; ${exec}`,
          );
          if (process.env.BENCH_PLANS !== 'false') for (const l of lines) console.log(`    ${l}`);
        }
      }
    }
    // BENCH_VIEWS=false skips every view x order (issue #14).
    if (process.env.BENCH_SEARCH_ONLY !== 'true' && process.env.BENCH_VIEWS !== 'false') {
      const views = await viewCases(rapport, A);
      results.push(...views.lines);
      if (views.failed) failed = true;
    }
    results.push(...(await searchCases(rapport, A, db.port)));
    // BENCH_GLOBAL_SEARCH=false skips the global search cases (issue #10).
    if (process.env.BENCH_GLOBAL_SEARCH !== 'false') results.push(...(await globalSearchCases(rapport, A, db.port)));

    console.log('\nRESULT inbox read path (HTTP = real HTTP, keep-alive, sequential; ceiling = same SQL via pg in the same transaction shape):');
    for (const l of results) console.log(`  ${l}`);
    console.log(`total bench time ${fmt((performance.now() - t0) / 1000, 0)} s`);
  } finally {
    await admin.end().catch(() => {});
    await rapport?.stop();
    await close();
  }
  if (failed) process.exitCode = 1;
}

await main();
