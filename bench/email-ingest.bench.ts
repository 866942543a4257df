/**
 * Email ingest (issues 5 and 14).
 *
 * 1. SMTP ingest rate: 10 KB messages over 8 parallel connections (nodemailer pool, one message per
 *    connection at a time) from this process, the load generator, into three servers, each in its own
 *    process (the same topology, timed here):
 *    - Rapport (child `--server`): each message parsed in the worker pool and committed (raw source,
 *      parse, customer, conversation, message, events) before the 250;
 *    - the durable ceiling (child `--ceiling`): a bare `smtp-server` that parses with the same parser
 *      (EmailParser, the same worker count) and commits the raw message with the fields Rapport uses
 *      (Message-ID, sender, subject, text) to PostgreSQL, one INSERT on a pool of Rapport's size,
 *      before its 250. Goal: Rapport >= 0.5 of it;
 *    - the discarding server (same child): reads DATA and throws it away, a second reference.
 *    BENCH_RUNS (3) rounds of BENCH_EMAIL_MESSAGES (2,000) per server, in an order that rotates, each
 *    only once Rapport's event and job backlog has drained. Printed: min / median / max of each, the
 *    ratio per round, and each server's peak RSS. Then every message Rapport accepted must be stored
 *    exactly once (count and distinct Message-IDs match the 250s), and the ceiling's rows match too.
 * 2. API inbox-list p99 (GET /conversations over real HTTP, sequential) while idle, and while one
 *    sender streams 1,000-part MIME messages into the SMTP port without pause. Goal: within 2x.
 */
import nodemailer from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../src/config.js';
import { createPool } from '../src/db/pool.js';
import { withSystem } from '../src/db/tenancy.js';
import { EmailParser } from '../src/modules/channels/email/email.parser.js';
import { emailRuntimeOf } from '../src/modules/channels/email/email.module.js';
import { markInboxOwnershipVerified } from '../src/modules/channels/email/email.ownership.service.js';
import { createToken, createUserAccount, createWorkspace } from '../src/modules/workspaces/workspaces.service.js';
import { startRapport } from '../src/server.js';
import { BENCH_CLIENT_LIMITS, benchDatabase, drained, fmt, fmtRuns as mmm, forkChild, readyOf, stopChild, summarize } from './lib.js';

const MESSAGES = Number(process.env.BENCH_EMAIL_MESSAGES ?? 2000);
const CONNECTIONS = 8;
const API_SAMPLES = Number(process.env.BENCH_API_SAMPLES ?? 600);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const POOL_SIZE = 30; // what startRapport gives the server's pool
const PARSER_WORKERS = 2; // EMAIL_PARSER_WORKERS' default, as Rapport runs here

function tenKb(i: number, run: string): string {
  const body = `${randomBytes(3700)
    .toString('base64')
    .replace(/(.{76})/g, '$1\r\n')}`;
  return [
    `From: Customer ${i % 500} <customer${i % 500}@bench.example>`,
    'To: support@bench.test',
    `Subject: Bench message ${i}`,
    `Message-ID: <bench-${run}-${i}@bench.example>`,
    'Date: Wed, 25 Nov 2026 06:00:00 +0000',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 7bit',
    '',
    body.slice(0, 10 * 1024 - 400),
    '',
  ].join('\r\n');
}

function thousandParts(i: number): string {
  const parts: string[] = [];
  for (let p = 0; p < 1000; p++) {
    parts.push(
      `--bnd\r\nContent-Type: text/plain; name="part${p}.txt"\r\nContent-Disposition: attachment; filename="part${p}.txt"\r\n\r\npart ${p} of message ${i} ${randomBytes(24).toString('hex')}`,
    );
  }
  return [
    `From: Heavy <heavy@bench.example>`,
    'To: support@bench.test',
    `Subject: 1000 parts ${i}`,
    `Message-ID: <heavy-${i}-${Date.now()}@bench.example>`,
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="bnd"',
    '',
    ...parts,
    '--bnd--',
    '',
  ].join('\r\n');
}

async function blast(port: number, messages: string[]): Promise<{ seconds: number; accepted: number; failed: number }> {
  const transport = nodemailer.createTransport({ pool: true, maxConnections: CONNECTIONS, maxMessages: Infinity, host: '127.0.0.1', port, secure: false, ignoreTLS: true });
  let accepted = 0;
  let failed = 0;
  const t0 = performance.now();
  let next = 0;
  // Eight senders, each with one message in flight: one per pooled connection.
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      for (let i = next++; i < messages.length; i = next++) {
        try {
          await transport.sendMail({ envelope: { from: 'sender@bench.example', to: ['support@bench.test'] }, raw: messages[i] });
          accepted++;
        } catch {
          failed++;
        }
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  transport.close();
  return { seconds, accepted, failed };
}

async function listen(server: SMTPServer): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.server.address() as AddressInfo).port;
}

/**
 * Child `--ceiling`: the discarding server and the durable ceiling. The durable one does what an
 * ingest must do at the least: the same parse, then the raw message and the fields Rapport stores
 * from it committed in one INSERT before the 250 (a 451 if that fails, as Rapport answers).
 */
async function ceilingMain(): Promise<void> {
  const pool = createPool(process.env.BENCH_DATABASE_URL!, { max: POOL_SIZE, applicationName: 'bench-ceiling' });
  const parser = new EmailParser({ workers: PARSER_WORKERS });
  const common = { authOptional: true, disabledCommands: ['AUTH', 'STARTTLS'], logger: false, size: 25 * 1024 * 1024, onRcptTo: (_a: unknown, _s: unknown, cb: () => void) => cb() };
  const discard = new SMTPServer({
    ...common,
    onData(stream, _s, cb) {
      stream.on('data', () => {});
      stream.on('end', () => cb());
    },
  });
  const durable = new SMTPServer({
    ...common,
    onData(stream, _s, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks);
        void (async () => {
          const parsed = await parser.parse(raw);
          await pool.query({
            name: 'ceiling_mail',
            text: 'insert into bench_ceiling_mail (message_id, from_address, subject, body, raw) values ($1, $2, $3, $4, $5)',
            values: [parsed.messageId, parsed.from?.address ?? null, parsed.subject, parsed.text, raw],
          });
        })().then(
          () => cb(null, '2.0.0 Message accepted'),
          () => cb(Object.assign(new Error('4.3.0 Temporary failure'), { responseCode: 451 })),
        );
      });
    },
  });
  process.send!({ type: 'ready', discardPort: await listen(discard), durablePort: await listen(durable), pid: process.pid });
  process.on('message', async (msg: { type: string }) => {
    if (msg.type === 'stop') {
      await new Promise<void>((r) => discard.close(() => r()));
      await new Promise<void>((r) => durable.close(() => r()));
      await parser.close();
      await pool.end();
      process.exit(0);
    }
  });
}

interface ServerSetup {
  url: string;
  smtpPort: number;
  token: string;
  workspaceId: string;
  inboxId: string;
  pid: number;
}

/** Child `--server`: Rapport with one workspace and one verified email inbox. */
async function serverMain(): Promise<void> {
  const config = loadConfig({}, { databaseUrl: process.env.BENCH_DATABASE_URL!, host: '127.0.0.1', port: 0, smtpPort: 0, seedDemo: false, logLevel: 'silent', ...BENCH_CLIENT_LIMITS });
  // bench.example has no records: answer that at once. The SPF, DKIM and DMARC check still runs on
  // every message (and finds nothing: unverified), but the figure is Rapport's work, not the latency
  // of whatever resolver the machine running the bench has (2-70 ms per query here, up to seconds).
  const dns = async (name: string) => {
    throw Object.assign(new Error(`${name}: no such name`), { code: 'ENOTFOUND' });
  };
  const rapport = await startRapport(config, { print: () => {}, dns });
  const clock = rapport.server.clock;
  const owner = await createUserAccount(rapport.server, { email: 'owner@bench.test', name: 'Owner', password: 'bench password 123' });
  const ws = await createWorkspace(rapport.server, { name: 'Bench', slug: 'bench', ownerUserId: owner });
  const { token } = await createToken({ pool: rapport.pool, clock, workspaceId: ws.id, actor: { type: 'user', id: owner } }, 'owner', { name: 'bench', role: 'admin' });
  const created = await rapport.app.inject({
    method: 'POST',
    url: `/api/v1/workspaces/${ws.id}/inboxes`,
    headers: { authorization: `Bearer ${token}` },
    payload: { name: 'Support', channel: 'email', settings: { addresses: ['support@bench.test'] } },
  });
  if (created.statusCode !== 201) throw new Error(created.body);
  const inboxId = created.json().id as string;
  // Its address must be proven to receive mail (SECURITY H2); the operator's service-level mark, as in tests.
  await markInboxOwnershipVerified(rapport.server, ws.id, inboxId);
  const setup: ServerSetup = { url: rapport.url, smtpPort: emailRuntimeOf(rapport.server).smtpPort, token, workspaceId: ws.id, inboxId, pid: process.pid };
  process.send!({ type: 'ready', setup });
  process.on('message', async (msg: { type: string }) => {
    if (msg.type === 'stop') {
      await rapport.stop();
      process.exit(0);
    }
  });
}

const rssKb = (pid: number) => Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);

async function main() {
  const { db, close } = await benchDatabase();
  const pool = createPool(db.url, { max: 2, applicationName: 'bench' });
  await pool.query('create table bench_ceiling_mail (id bigint generated always as identity primary key, message_id text, from_address text, subject text, body text, raw bytea not null)');
  const server = forkChild(import.meta.url, '--server', { BENCH_DATABASE_URL: db.url });
  const ceiling = forkChild(import.meta.url, '--ceiling', { BENCH_DATABASE_URL: db.url });
  const [{ setup }, refs] = await Promise.all([readyOf<{ setup: ServerSetup }>(server), readyOf<{ discardPort: number; durablePort: number; pid: number }>(ceiling)]);
  const { workspaceId, inboxId, token, smtpPort } = setup;

  // "Drained" means Rapport's events are dispatched and its due jobs done: a round never pays for
  // the previous one's backlog.
  const drain = () => drained(pool, 250);

  console.log(`SMTP ingest: ${MESSAGES} messages of 10 KB per server per round, ${RUNS} rounds, ${CONNECTIONS} connections`);
  const targets = {
    rapport: { port: smtpPort, pid: setup.pid },
    durable: { port: refs.durablePort, pid: refs.pid },
    discard: { port: refs.discardPort, pid: refs.pid },
  };
  // Warm-up (JIT, worker threads, connection pools), not counted.
  for (const [name, t] of Object.entries(targets)) {
    await blast(
      t.port,
      Array.from({ length: 100 }, (_, i) => tenKb(i, `warm-${name}`)),
    );
  }
  const rates: Record<keyof typeof targets, number[]> = { rapport: [], durable: [], discard: [] };
  const peak: Record<keyof typeof targets, number> = { rapport: 0, durable: 0, discard: 0 };
  let acceptedRapport = 0;
  let acceptedDurable = 0;
  let refused = 0;
  const names = Object.keys(targets) as (keyof typeof targets)[];
  for (let round = 1; round <= RUNS; round++) {
    const order = names.map((_, i) => names[(i + round - 1) % names.length]);
    const line: string[] = [];
    for (const name of order) {
      const waited = await drain();
      const t = targets[name];
      const sampler = setInterval(() => {
        peak[name] = Math.max(peak[name], rssKb(t.pid));
      }, 100);
      const r = await blast(
        t.port,
        Array.from({ length: MESSAGES }, (_, i) => tenKb(i, `${name === 'rapport' ? 'r' : name}${round}`)),
      );
      clearInterval(sampler);
      rates[name].push(r.accepted / r.seconds);
      refused += r.failed;
      if (name === 'rapport') acceptedRapport += r.accepted;
      if (name === 'durable') acceptedDurable += r.accepted;
      line.push(`${name} ${fmt(r.accepted / r.seconds, 0)} msg/s (${r.failed} refused; backlog drained in ${fmt(waited, 1)} s before)`);
    }
    console.log(`  round ${round}: ${line.join('; ')}`);
  }
  const ratios = rates.rapport.map((r, i) => r / rates.durable[i]);
  const discardRatios = rates.rapport.map((r, i) => r / rates.discard[i]);
  console.log(`  Rapport (parse + store before 250)     msg/s min / median / max: ${mmm(rates.rapport)}; peak RSS ${fmt(peak.rapport / 1024, 1)} MiB`);
  console.log(`  durable ceiling (parse + INSERT, 250)  msg/s min / median / max: ${mmm(rates.durable)}; peak RSS ${fmt(peak.durable / 1024, 1)} MiB (ceiling process)`);
  console.log(`  discarding smtp-server (reference)     msg/s min / median / max: ${mmm(rates.discard)}`);
  console.log(`  ratio to the durable ceiling per round: ${mmm(ratios, 3)}   (goal >= 0.5: ${[...ratios].sort((a, b) => a - b)[Math.floor((ratios.length - 1) / 2)] >= 0.5 ? 'met' : 'MISSED'})`);
  console.log(`  ratio to the discarding server per round: ${mmm(discardRatios, 3)}`);

  const check = await withSystem(
    pool,
    async (tx) =>
      (
        await tx.query<{ n: number; distinct_ids: number; with_raw: number; with_message: number }>(
          `select count(*)::int as n, count(distinct rfc_message_id)::int as distinct_ids,
       count(*) filter (where exists (select 1 from blobs b where b.workspace_id = e.workspace_id and b.sha256 = e.raw_sha256))::int as with_raw,
       count(*) filter (where message_id is not null)::int as with_message
     from email_messages e where inbox_id = $1 and rfc_message_id like 'bench-r%'`,
          [inboxId],
        )
      ).rows[0],
  );
  const durableRows = (await pool.query<{ n: number }>(`select count(*)::int as n from bench_ceiling_mail where message_id like 'bench-durable%'`)).rows[0].n;
  const exact =
    refused === 0 &&
    check.n === acceptedRapport &&
    check.distinct_ids === acceptedRapport &&
    check.with_raw === acceptedRapport &&
    check.with_message === acceptedRapport &&
    durableRows === acceptedDurable;
  console.log(
    `  stored exactly once: ${exact ? 'yes' : 'NO'} (Rapport accepted ${acceptedRapport}, rows ${check.n}, distinct Message-IDs ${check.distinct_ids}, with raw ${check.with_raw}, with message ${check.with_message}; ceiling accepted ${acceptedDurable}, rows ${durableRows}; ${refused} refused)`,
  );

  // API p99 of the inbox list, idle and under a stream of 1,000-part messages.
  const listUrl = `${setup.url}/api/v1/workspaces/${workspaceId}/conversations?limit=50`;
  const sample = async (n: number) => {
    const times: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      const res = await fetch(listUrl, { headers: { authorization: `Bearer ${token}` } });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`inbox list: ${res.status}`);
      times.push(performance.now() - t0);
    }
    return summarize(times);
  };
  // "Idle" means idle: the ingest rounds leave thousands of events and subscriber jobs behind, and
  // sampling while the worker drains them would make idle look slower than busy.
  const drainedIn = await drain();
  console.log(`  (event and job backlog after the rounds drained in ${fmt(drainedIn, 1)} s)`);
  await sample(100);
  const idle = await sample(API_SAMPLES);
  let streaming = true;
  let heavySent = 0;
  let heavyRefused = 0;
  const heavyBytes = Buffer.byteLength(thousandParts(0));
  const heavy = (async () => {
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: smtpPort, secure: false, ignoreTLS: true, pool: true, maxConnections: 1 });
    for (let i = 0; streaming; i++) {
      try {
        await transport.sendMail({ envelope: { from: 'heavy@bench.example', to: ['support@bench.test'] }, raw: thousandParts(i) });
        heavySent++;
      } catch {
        heavyRefused++;
      }
    }
    transport.close();
  })();
  await new Promise((r) => setTimeout(r, 500));
  const busy = await sample(API_SAMPLES);
  streaming = false;
  await heavy;
  const parts = await withSystem(
    pool,
    async (tx) =>
      (
        await tx.query<{ n: number; a: number }>(
          `select count(*)::int as n, coalesce(sum((select count(*) from email_attachments a where a.workspace_id = e.workspace_id and a.email_message_id = e.id)), 0)::int as a
     from email_messages e where rfc_message_id like 'heavy-%' and parse_status = 'parsed'`,
        )
      ).rows[0],
  );
  console.log(`API inbox list (GET /conversations?limit=50, ${API_SAMPLES} sequential requests)`);
  console.log(`  idle:    p50 ${fmt(idle.p50)} ms  p99 ${fmt(idle.p99)} ms`);
  console.log(
    `  busy:    p50 ${fmt(busy.p50)} ms  p99 ${fmt(busy.p99)} ms   (${heavySent} messages of 1,000 parts, ${fmt(heavyBytes / 1024, 0)} KB each, accepted meanwhile; ${heavyRefused} refused; ${parts.n} parsed, ${parts.a} attachments stored)`,
  );
  console.log(`  ratio busy/idle p99: ${fmt(busy.p99 / idle.p99, 2)}   (goal <= 2)`);

  await stopChild(ceiling);
  await stopChild(server);
  await pool.end();
  await close();
  if (!exact) process.exit(1);
}

if (process.argv.includes('--server')) await serverMain();
else if (process.argv.includes('--ceiling')) await ceilingMain();
else await main();
