import { randomBytes } from 'node:crypto';
import { Session } from 'node:inspector/promises';
import { performance as perf } from 'node:perf_hooks';
import nodemailer from 'nodemailer';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestWorkspace, startTestServer, type TestServer, type TestWorkspace } from '../../../../test/helpers.js';
import { EmailParser } from './email.parser.js';
import { createEmailInbox, smtpPortOf, systemQuery } from './email.testing.js';

/**
 * Where an accepted message's time goes (issue #14), timed in one process: run on demand with
 * `MEASURE_INGEST=1 npx vitest run src/modules/channels/email/email.ingest-stages.test.ts`.
 * Messages go one at a time (the bench's 10 KB shape, a new conversation each), and every statement
 * the process sends is classified by who sent it: the RCPT TO routing, the ingest before the 250,
 * or anything else (the event dispatcher and jobs: the work after the 250). A second case sends
 * from eight connections at once and shows what PostgreSQL's backends wait on and where this
 * process's main thread spends its time.
 */
const MESSAGES = Number(process.env.MEASURE_INGEST_MESSAGES ?? 200);
type Kind = 'route' | 'ingest' | 'other';
const log: { kind: Kind; sql: string; start: number; end: number; client: object }[] = [];
const parses: { start: number; end: number }[] = [];

function kindOf(stack: string, sql: string): Kind {
  if (stack.includes('ingestEmail') || stack.includes('ingestOnce')) return 'ingest';
  if (sql.includes('from email_inbox_addresses a join inboxes')) return 'route';
  return 'other';
}

/** A transaction is the kind of any of its statements (begin and commit have no telling stack). */
function classifyTransactions(): void {
  const byClient = new Map<object, typeof log>();
  for (const q of log) byClient.set(q.client, [...(byClient.get(q.client) ?? []), q]);
  for (const entries of byClient.values()) {
    let current: typeof log | null = null;
    for (const q of entries) {
      if (q.sql.startsWith('begin')) current = [];
      if (!current) continue;
      current.push(q);
      if (q.sql === 'commit' || q.sql === 'rollback') {
        const kind = current.find((x) => x.kind !== 'other')?.kind;
        if (kind) for (const x of current) x.kind = kind;
        current = null;
      }
    }
  }
}

const originalQuery = pg.Client.prototype.query;
const originalParse = EmailParser.prototype.parse;

function tenKb(i: number): string {
  const body = randomBytes(3700)
    .toString('base64')
    .replace(/(.{76})/g, '$1\r\n');
  return [
    `From: Customer ${i % 500} <customer${i % 500}@bench.example>`,
    'To: support@bench.test',
    `Subject: Bench message ${i}`,
    `Message-ID: <stages-${i}-${randomBytes(4).toString('hex')}@bench.example>`,
    'Date: Wed, 25 Nov 2026 06:00:00 +0000',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 7bit',
    '',
    body.slice(0, 10 * 1024 - 400),
    '',
  ].join('\r\n');
}

let rapport: TestServer;
let ws: TestWorkspace;

describe.runIf(process.env.MEASURE_INGEST === '1')('email ingest stages (a measurement, on demand)', () => {
  beforeAll(async () => {
    rapport = await startTestServer();
    ws = await createTestWorkspace(rapport);
    await createEmailInbox(rapport, ws, { addresses: ['support@bench.test'] });
  });
  afterAll(async () => {
    pg.Client.prototype.query = originalQuery;
    EmailParser.prototype.parse = originalParse;
    await rapport?.stop();
  });

  it('times each stage and counts the statements per message', async () => {
    // One pooled connection, as the benchmark's senders keep theirs: the session's set-up is paid once.
    const transport = nodemailer.createTransport({ pool: true, maxConnections: 1, maxMessages: Infinity, host: '127.0.0.1', port: smtpPortOf(rapport), secure: false, ignoreTLS: true });
    const send = (raw: string) => transport.sendMail({ envelope: { from: 'sender@bench.example', to: ['support@bench.test'] }, raw });
    for (let i = 0; i < 20; i++) await send(tenKb(i));
    // biome-ignore lint/suspicious/noExplicitAny: wraps pg's overloaded query for the measurement only
    pg.Client.prototype.query = function (this: pg.Client, ...args: any[]): any {
      const sql = String(typeof args[0] === 'string' ? args[0] : args[0]?.text)
        .replace(/\s+/g, ' ')
        .trim()
        .slice(0, 90);
      const entry = { kind: kindOf(new Error().stack ?? '', sql), sql, start: performance.now(), end: 0, client: this };
      log.push(entry);
      // biome-ignore lint/suspicious/noExplicitAny: see above
      const result = (originalQuery as any).apply(this, args);
      if (result && typeof result.then === 'function') result.then(() => (entry.end = performance.now())).catch(() => (entry.end = performance.now()));
      return result;
    };
    EmailParser.prototype.parse = async function (this: EmailParser, raw: Uint8Array) {
      const p = { start: performance.now(), end: 0 };
      parses.push(p);
      const r = await originalParse.call(this, raw);
      p.end = performance.now();
      return r;
    };
    const stages = { session: [] as number[], parse: [] as number[], ingest: [] as number[], reply: [] as number[], total: [] as number[] };
    const t0 = performance.now();
    for (let i = 100; i < 100 + MESSAGES; i++) {
      const from = log.length;
      const start = performance.now();
      await send(tenKb(i));
      const end = performance.now();
      const p = parses[parses.length - 1];
      const mine = log.slice(from).filter((q) => q.kind === 'ingest');
      const firstIngest = mine[0]?.start ?? p.end;
      const lastIngest = Math.max(...mine.map((q) => q.end));
      stages.session.push(p.start - start);
      stages.parse.push(p.end - p.start);
      stages.ingest.push(lastIngest - firstIngest);
      stages.reply.push(end - lastIngest);
      stages.total.push(end - start);
    }
    const elapsed = performance.now() - t0;
    transport.close();
    // Let the after-250 work (dispatcher, jobs) finish, then count it.
    const rows = await systemQuery<{ n: string }>(rapport, `select count(*)::text as n from email_messages where direction = 'inbound'`);
    expect(Number(rows[0].n)).toBe(MESSAGES + 20);
    await new Promise((r) => setTimeout(r, 3000));
    classifyTransactions();
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)].toFixed(2);
    const mean = (xs: number[]) => (xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(2);
    const count = (k: Kind) => log.filter((q) => q.kind === k).length / MESSAGES;
    const ingestSql = new Map<string, number>();
    const ingestMs = new Map<string, number>();
    for (const q of log.filter((x) => x.kind === 'ingest')) {
      ingestSql.set(q.sql, (ingestSql.get(q.sql) ?? 0) + 1);
      ingestMs.set(q.sql, (ingestMs.get(q.sql) ?? 0) + (q.end - q.start));
    }
    const otherSql = new Map<string, number>();
    for (const q of log.filter((x) => x.kind === 'other')) otherSql.set(q.sql, (otherSql.get(q.sql) ?? 0) + 1);
    const ingestTime = log.filter((q) => q.kind === 'ingest').reduce((a, q) => a + (q.end - q.start), 0) / MESSAGES;
    console.log(
      [
        `${MESSAGES} messages one at a time in ${elapsed.toFixed(0)} ms`,
        `per message, median (mean) ms: SMTP session to DATA end ${median(stages.session)} (${mean(stages.session)}), parse ${median(stages.parse)} (${mean(stages.parse)}),` +
          ` statements before the 250 ${median(stages.ingest)} (${mean(stages.ingest)}; ${ingestTime.toFixed(2)} of it waiting on PostgreSQL), 250 to the client ${median(stages.reply)} (${mean(stages.reply)}), total ${median(stages.total)} (${mean(stages.total)})`,
        `statements per message: RCPT routing ${count('route')}, before the 250 ${count('ingest')}, other (after the 250, background) ${count('other').toFixed(1)}`,
        'before the 250:',
        ...[...ingestSql].map(([sql, n]) => `  ${(n / MESSAGES).toFixed(2)}  ${((ingestMs.get(sql) ?? 0) / n).toFixed(2)} ms  ${sql}`),
        'after the 250 (top):',
        ...[...otherSql]
          .sort((a, b) => b[1] - a[1])
          .slice(0, 15)
          .map(([sql, n]) => `  ${(n / MESSAGES).toFixed(2)}  ${sql}`),
      ].join('\n'),
    );
  }, 300_000);

  it('shows what the server waits on with eight senders at once, as the benchmark sends', async () => {
    pg.Client.prototype.query = originalQuery;
    EmailParser.prototype.parse = originalParse;
    const transport = nodemailer.createTransport({ pool: true, maxConnections: 8, maxMessages: Infinity, host: '127.0.0.1', port: smtpPortOf(rapport), secure: false, ignoreTLS: true });
    const sampler = new pg.Client({ connectionString: rapport.config.databaseUrl });
    await sampler.connect();
    const waits = new Map<string, number>();
    let samples = 0;
    let sending = true;
    const sampling = (async () => {
      while (sending) {
        const { rows } = await sampler.query<{ w: string }>(
          `select coalesce(wait_event_type || ':' || wait_event, 'on CPU') as w from pg_stat_activity
           where state = 'active' and pid <> pg_backend_pid() and backend_type = 'client backend'`,
        );
        samples++;
        for (const r of rows) waits.set(r.w, (waits.get(r.w) ?? 0) + 1);
      }
    })();
    // The main thread's own CPU profile meanwhile (the parse workers are not in it): where this
    // process spends the time the database does not.
    const session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
    const elu0 = perf.eventLoopUtilization();
    const t0 = performance.now();
    let next = 1000;
    const last = 1000 + MESSAGES * 2;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let i = next++; i < last; i = next++) {
          await transport.sendMail({ envelope: { from: 'sender@bench.example', to: ['support@bench.test'] }, raw: tenKb(i) });
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    const elu = perf.eventLoopUtilization(elu0);
    const { profile } = await session.post('Profiler.stop');
    session.disconnect();
    const selfMs = new Map<string, number>();
    const interval = (profile.endTime - profile.startTime) / 1000 / Math.max(1, profile.samples?.length ?? 1);
    for (const node of profile.nodes) {
      const f = node.callFrame;
      const where = `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*node_modules\//, '').replace(/^.*\/src\//, 'src/')}:${f.lineNumber + 1}`;
      selfMs.set(where, (selfMs.get(where) ?? 0) + (node.hitCount ?? 0) * interval);
    }
    sending = false;
    await sampling;
    await sampler.end();
    transport.close();
    console.log(
      [
        `${MESSAGES * 2} messages over 8 connections: ${((MESSAGES * 2) / seconds).toFixed(0)} msg/s; ${samples} samples of pg_stat_activity, active backends by wait:`,
        ...[...waits]
          .sort((a, b) => b[1] - a[1])
          .slice(0, 12)
          .map(([w, n]) => `  ${(n / samples).toFixed(2)}  ${w}`),
        `main thread (this process: Rapport and the senders): event loop busy ${(elu.utilization * 100).toFixed(0)}%; most self time:`,
        ...[...selfMs]
          .sort((a, b) => b[1] - a[1])
          .slice(0, 25)
          .map(([w, ms]) => `  ${ms.toFixed(0).padStart(6)} ms  ${w}`),
      ].join('\n'),
    );
  }, 300_000);
});
