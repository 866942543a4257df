/**
 * First load of the agent web app (issues 4, 14): the bytes the initial route downloads as actually
 * sent over the wire (Chromium's own count of encoded bytes, headers included, with its usual
 * Accept-Encoding; the server sends pre-compressed brotli assets), and the time until the inbox is
 * interactive in Chromium against a workspace of 1,000,000 conversations.
 *
 * Data: one workspace, generated with INSERT ... SELECT generate_series straight into the tables of
 * 0001_core.sql as the superuser (session_replication_role = replica skips the foreign-key triggers;
 * the rows are consistent by construction; secondary indexes are dropped for the load and re-created
 * from their own definitions, then VACUUM ANALYZE; columns that triggers would fill, such as
 * last_public_activity_at (0260), are written here, since replica mode skips those triggers too): 10 agents, 3 teams, 100,000 customers (one email
 * each), BENCH_CONVERSATIONS (default 1,000,000) conversations, 20% open.
 *
 * "Interactive": from navigation start to the first inbox rows on screen with the main thread free
 * (a requestAnimationFrame + a macrotask after the rows appear), then a click on the first row opens
 * its conversation (timed separately). Cold = a fresh browser context (empty cache); warm = the same
 * context again (assets from cache, what an agent sees each morning).
 * Ceiling: the same browser loading the raw JSON of the first inbox page (one API round trip, no app).
 * BENCH_RUNS (3) runs after a warm-up, each in a fresh context: every figure is printed as min / median
 * / max over the runs, like the other benchmarks, and the goals are checked on the median.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import pg from 'pg';
import { chromium } from 'playwright-core';
import { loadConfig } from '../src/config.js';
import { addMember, createUserAccount, createWorkspace } from '../src/modules/workspaces/workspaces.service.js';
import { startRapport } from '../src/server.js';
import { BENCH_CLIENT_LIMITS, benchDatabase, fmt, fmtRuns as mmm, minMedianMax } from './lib.js';

const N = Number(process.env.BENCH_CONVERSATIONS ?? 1_000_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const CUSTOMERS = Math.min(100_000, Math.max(1, Math.floor(N / 10)));
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DIST = path.join(ROOT, 'web', 'dist');
const PASSWORD = 'bench owner password';

const step = async <T>(label: string, fn: () => Promise<T>): Promise<T> => {
  const t0 = performance.now();
  const result = await fn();
  console.log(`  ${label}: ${fmt((performance.now() - t0) / 1000, 1)} s`);
  return result;
};

const toKb = (bytes: number) => bytes / 1024;
const brotliSize = (buf: Buffer | string) => brotliCompressSync(buf, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;

/** What index.html makes the browser fetch before the inbox can render (lazy chunks excluded), by file. */
function initialRouteSize(): { files: { name: string; raw: number; gzip: number; br: number }[]; gzip: number; lazyGzip: number } {
  const html = readFileSync(path.join(DIST, 'index.html'), 'utf8');
  const referenced = new Set([...html.matchAll(/(?:src|href)="\/(assets\/[^"]+)"/g)].map((m) => m[1]));
  const files = [...referenced].map((rel) => {
    const buf = readFileSync(path.join(DIST, rel));
    return { name: rel, raw: buf.length, gzip: gzipSync(buf, { level: 9 }).length, br: brotliSize(buf) };
  });
  files.push({ name: 'index.html', raw: Buffer.byteLength(html), gzip: gzipSync(html, { level: 9 }).length, br: brotliSize(html) });
  const lazyGzip = readdirSync(path.join(DIST, 'assets'))
    .filter((f) => !referenced.has(`assets/${f}`) && !/\.(?:br|gz)$/.test(f))
    .reduce((sum, f) => sum + gzipSync(readFileSync(path.join(DIST, 'assets', f)), { level: 9 }).length, 0);
  return { files, gzip: files.reduce((s, f) => s + f.gzip, 0), lazyGzip };
}

async function generate(superUrl: string, ws: string, inboxId: string, agents: string[], teams: string[]): Promise<void> {
  const c = new pg.Client({ connectionString: superUrl });
  await c.connect();
  const now = new Date();
  const tables = ['customers', 'customer_identities', 'conversations'];
  const { rows: indexes } = await c.query<{ name: string; def: string }>(
    `select indexname as name, indexdef as def from pg_indexes i where schemaname = 'public' and tablename = any($1)
       and not exists (select 1 from pg_constraint k where k.conname = i.indexname)`,
    [tables],
  );
  for (const ix of indexes) await c.query(`drop index ${c.escapeIdentifier(ix.name)}`);
  await c.query("set session_replication_role = replica; set synchronous_commit = off; set work_mem = '256MB'");
  await step(`${CUSTOMERS.toLocaleString()} customers`, async () => {
    await c.query(
      `insert into customers (workspace_id, id, name, created_at, updated_at)
       select $1::uuid, md5($1::text || '/customer/' || i)::uuid, 'Customer ' || i, $3::timestamptz - i * interval '1 minute', $3
       from generate_series(1, $2::int) i`,
      [ws, CUSTOMERS, now],
    );
    await c.query(
      `insert into customer_identities (workspace_id, customer_id, kind, value, created_at)
       select $1::uuid, md5($1::text || '/customer/' || i)::uuid, 'email', 'customer' || i || '@bench.example', $3
       from generate_series(1, $2::int) i`,
      [ws, CUSTOMERS, now],
    );
  });
  await step(`${N.toLocaleString()} conversations`, () =>
    c.query(
      `insert into conversations (workspace_id, id, number, inbox_id, customer_id, subject, status, snoozed_until, priority, assignee_id,
         team_id, tags, created_at, updated_at, last_activity_at, last_public_activity_at, waiting_since, first_response_at, resolved_at,
         last_message_preview, last_message_type, message_count)
       select $1::uuid, md5($1::text || '/conversation/' || i)::uuid, 1000 + i, $3, md5($1::text || '/customer/' || (1 + i % $4::int))::uuid,
         'Question about order ' || i, st, case when st = 'snoozed' then $7::timestamptz + interval '1 day' end,
         (array['low', 'normal', 'normal', 'high', 'urgent'])[1 + i % 5],
         case when i % 10 = 0 then null else ($5::uuid[])[1 + i % array_length($5::uuid[], 1)] end,
         case when i % 4 = 0 then null else ($6::uuid[])[1 + i % array_length($6::uuid[], 1)] end,
         case when i % 20 = 0 then '{vip}'::text[] else '{}'::text[] end,
         la - interval '1 hour', la, la, la, case when st = 'open' then la end, case when st <> 'open' then la end,
         case when st in ('resolved', 'closed') then la end,
         'Hello, order ' || i || ' has not arrived yet. Could you check where it is?', 'inbound', 1
       from generate_series(1, $2::int) i,
       lateral (select case when i % 10 < 2 then 'open' when i % 10 = 2 then 'pending' when i % 20 = 7 then 'snoozed'
                            when i % 10 < 7 then 'resolved' else 'closed' end as st) s,
       lateral (select $7::timestamptz - (i::float8 / $2) * interval '730 days' as la) l`,
      [ws, N, inboxId, CUSTOMERS, agents, teams, now],
    ),
  );
  await step(`re-create ${indexes.length} indexes + vacuum analyze`, async () => {
    for (const ix of indexes) await c.query(ix.def);
    await c.query('vacuum analyze customers, customer_identities, conversations');
  });
  await c.end();
}

async function main(): Promise<void> {
  await step('build web app', async () => execFileSync(path.join(ROOT, 'node_modules/.bin/vite'), ['build', '--config', 'web/vite.config.ts', '--logLevel', 'warn'], { cwd: ROOT, stdio: 'inherit' }));
  const size = initialRouteSize();

  const { db, close } = await step('database', () => benchDatabase());
  const appDb = new URL(db.url).pathname;
  const superUrl = new URL(db.adminUrl);
  superUrl.pathname = appDb;
  const config = loadConfig({}, { databaseUrl: db.url, host: '127.0.0.1', port: 0, smtpPort: 0, seedDemo: false, logLevel: 'silent', ...BENCH_CLIENT_LIMITS });
  const rapport = await startRapport(config, { print: () => {} });
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  try {
    const deps = rapport.server;
    const ownerId = await createUserAccount(deps, { email: 'owner@bench.test', name: 'Bench Owner', password: PASSWORD });
    const { id: ws, inboxId } = await createWorkspace(deps, { name: 'Bench', slug: 'bench', ownerUserId: ownerId });
    const wsDeps = { pool: deps.pool, clock: deps.clock, workspaceId: ws, actor: { type: 'user' as const, id: ownerId } };
    const agents: string[] = [];
    for (let i = 1; i <= 10; i++) agents.push((await addMember(wsDeps, 'owner', { email: `agent${i}@bench.test`, name: `Agent ${i}`, role: 'agent' })).id);
    const admin = new pg.Client({ connectionString: superUrl.toString() });
    await admin.connect();
    const teams = (await admin.query<{ id: string }>(`insert into teams (workspace_id, name) select $1, 'Team ' || i from generate_series(1, 3) i returning id`, [ws])).rows.map((r) => r.id);
    await admin.end();
    await generate(superUrl.toString(), ws, inboxId, agents, teams);

    const login = await fetch(`${rapport.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'owner@bench.test', password: PASSWORD }),
    });
    const cookie = /rapport_session=([^;]+)/.exec(login.headers.get('set-cookie') ?? '')?.[1];
    if (!cookie) throw new Error(`login failed: ${login.status}`);
    const host = new URL(rapport.url).hostname;
    const inboxUrl = `${rapport.url}/w/${ws}/v/open`;
    const rawUrl = `${rapport.url}/api/v1/workspaces/${ws}/conversations?status=open&limit=50`;

    const newContext = async () => {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      await context.addCookies([{ name: 'rapport_session', value: cookie, domain: host, path: '/', httpOnly: true }]);
      return context;
    };
    /**
     * Bytes on the wire per response while the inbox loads, as Chromium counts them (encodedDataLength:
     * headers + the body as sent, compressed or not), from the DevTools protocol; a response served from
     * the cache counts 0.
     */
    const wire = async (page: import('playwright-core').Page) => {
      const cdp = await page.context().newCDPSession(page);
      await cdp.send('Network.enable');
      const urls = new Map<string, { url: string; encoding: string }>();
      const sizes: { url: string; bytes: number; encoding: string }[] = [];
      cdp.on('Network.responseReceived', (e) => {
        const h = Object.fromEntries(Object.entries(e.response.headers).map(([k, v]) => [k.toLowerCase(), String(v)]));
        urls.set(e.requestId, { url: e.response.url, encoding: h['content-encoding'] ?? 'identity' });
      });
      cdp.on('Network.loadingFinished', (e) => {
        const r = urls.get(e.requestId);
        if (r) sizes.push({ url: r.url, bytes: e.encodedDataLength, encoding: r.encoding });
      });
      return { sizes, detach: () => cdp.detach() };
    };
    const measure = async (page: import('playwright-core').Page) => {
      await page.goto(inboxUrl, { waitUntil: 'commit' });
      await page.waitForSelector('.row', { timeout: 30_000 });
      const interactive = await page.evaluate(() => new Promise<number>((resolve) => requestAnimationFrame(() => setTimeout(() => resolve(performance.now()), 0))));
      const t0 = Date.now();
      await page.locator('.row').first().click();
      await page.waitForSelector('[data-testid="thread"] .message, [data-testid="conversation"] .state', { timeout: 30_000 });
      return { interactive, open: Date.now() - t0 };
    };

    // Warm-up (server JIT, PostgreSQL caches), not counted.
    {
      const context = await newContext();
      await measure(await context.newPage());
      await context.close();
    }
    const cold: number[] = [];
    const warm: number[] = [];
    const openTimes: number[] = [];
    const ceiling: number[] = [];
    let rows = 0;
    let sent: { url: string; bytes: number; encoding: string }[] = [];
    const origin = new URL(rapport.url).origin;
    const isAsset = (u: string) => u === `${origin}/w/${ws}/v/open` || u.startsWith(`${origin}/assets/`);
    const appBytes: number[] = [];
    const apiBytes: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const context = await newContext();
      const page = await context.newPage();
      const onWire = await wire(page);
      const c = await measure(page);
      // Let the responses still streaming when the rows showed finish (counted once they are done).
      await page.waitForLoadState('load');
      if (i === 0) sent = [...onWire.sizes];
      appBytes.push(onWire.sizes.filter((r) => isAsset(r.url)).reduce((sum, r) => sum + r.bytes, 0));
      apiBytes.push(onWire.sizes.filter((r) => !isAsset(r.url)).reduce((sum, r) => sum + r.bytes, 0));
      await onWire.detach();
      cold.push(c.interactive);
      openTimes.push(c.open);
      rows = await page.locator('.row').count();
      const w = await measure(page);
      warm.push(w.interactive);
      const raw = await context.newPage();
      await raw.goto(rawUrl);
      ceiling.push(
        await raw.evaluate(() => {
          const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
          return nav.responseEnd;
        }),
      );
      await context.close();
    }
    const counts = await (await fetch(`${rapport.url}/api/v1/workspaces/${ws}/conversations/counts`, { headers: { cookie: `rapport_session=${cookie}` } })).json();

    const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
    const kbRuns = (xs: number[]) => `${mmm(xs.map(toKb), 1)} KB`;
    console.log('\nInitial route (what index.html loads before the inbox renders), per file on disk:');
    for (const f of size.files) console.log(`  ${f.name.padEnd(40)} ${kb(f.raw).padStart(9)} raw  ${kb(f.gzip).padStart(8)} gzip  ${kb(f.br).padStart(8)} brotli`);
    console.log(`  lazy chunks (admin, invitation): ${kb(size.lazyGzip)} gzip`);
    console.log('\nAs sent over the wire to Chromium (cold cache; its Accept-Encoding; headers included), first run:');
    for (const r of sent) console.log(`  ${r.url.replace(origin, '').slice(0, 70).padEnd(70)} ${kb(r.bytes).padStart(9)}  ${r.encoding}`);
    console.log(`\nInbox with ${N.toLocaleString()} conversations (open: ${counts.open}${counts.capped ? '+' : ''}), ${rows} rows rendered; ${RUNS} runs, min / median / max:`);
    console.log(`  app as sent (page + assets): ${kbRuns(appBytes)} (goal <= 150 KB)   API answers: ${kbRuns(apiBytes)}`);
    console.log(`  interactive, cold cache: ${mmm(cold)} ms (goal <= 1500 ms)`);
    console.log(`  interactive, warm cache: ${mmm(warm)} ms`);
    console.log(`  click a row -> conversation shown: ${mmm(openTimes)} ms`);
    console.log(`  ceiling (browser loads the first page's raw JSON): ${mmm(ceiling)} ms`);
    const ratios = cold.map((x, i) => x / Math.max(1, ceiling[i]));
    console.log(`  ratio interactive (cold) / ceiling, per run: ${mmm(ratios, 1)}x`);
    const appMedian = minMedianMax(appBytes).median;
    const coldMedian = minMedianMax(cold).median;
    console.log(`RESULT first load: app ${kb(appMedian)} as sent (goal <= 150 KB), interactive ${fmt(coldMedian, 0)} ms cold (goal <= 1500 ms), medians of ${RUNS} runs`);
    const ok = appMedian > 0 && appMedian <= 150 * 1024 && coldMedian <= 1500;
    console.log(`\n  ${ok ? 'within goals' : 'OUTSIDE GOALS'}`);
  } catch (error) {
    console.error('first-load bench failed:', error);
    process.exitCode = 1;
  } finally {
    await browser.close();
    await rapport.stop();
    await close();
  }
}

await main();
