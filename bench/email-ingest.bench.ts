/**
 * Email ingest (issue 5).
 *
 * 1. SMTP ingest rate: 10 KB messages over 8 parallel connections (nodemailer pool, one message per
 *    connection at a time) into Rapport's SMTP port, where each message is parsed in the worker
 *    thread and committed (raw source, parse, customer, conversation, message, events) before the
 *    250; versus the ceiling, a bare `smtp-server` on the same machine that reads DATA and discards
 *    it, with the same sender in the same run. Goal: ratio >= 0.5. Then every accepted message must
 *    be stored exactly once (count and distinct Message-IDs match the 250s).
 * 2. API inbox-list p99 (GET /conversations over real HTTP, sequential) while idle, and while one
 *    sender streams 1,000-part MIME messages into the SMTP port without pause. Goal: within 2x.
 *
 * Data: one workspace, one email inbox, fresh embedded PostgreSQL. BENCH_EMAIL_MESSAGES (default
 * 2,000) per rate run; the rate runs alternate ceiling / Rapport twice and report the better of each.
 */
import nodemailer from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../src/config.js';
import { withSystem } from '../src/db/tenancy.js';
import { emailRuntimeOf } from '../src/modules/channels/email/email.module.js';
import { markInboxOwnershipVerified } from '../src/modules/channels/email/email.ownership.service.js';
import { createToken, createUserAccount, createWorkspace } from '../src/modules/workspaces/workspaces.service.js';
import { startRapport } from '../src/server.js';
import { BENCH_CLIENT_LIMITS, benchDatabase, fmt, summarize } from './lib.js';

const MESSAGES = Number(process.env.BENCH_EMAIL_MESSAGES ?? 2000);
const CONNECTIONS = 8;
const API_SAMPLES = Number(process.env.BENCH_API_SAMPLES ?? 600);

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

async function bareServer(): Promise<{ port: number; close(): Promise<void> }> {
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    size: 25 * 1024 * 1024,
    onRcptTo: (_a, _s, cb) => cb(),
    onData(stream, _s, cb) {
      stream.on('data', () => {});
      stream.on('end', () => cb());
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.server.address() as AddressInfo).port, close: () => new Promise<void>((r) => server.close(() => r())) };
}

async function main() {
  const { db, close } = await benchDatabase();
  const config = loadConfig({}, { databaseUrl: db.url, host: '127.0.0.1', port: 0, smtpPort: 0, seedDemo: false, logLevel: 'silent', ...BENCH_CLIENT_LIMITS });
  const rapport = await startRapport(config, { print: () => {} });
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
  const smtpPort = emailRuntimeOf(rapport.server).smtpPort;
  const bare = await bareServer();

  console.log(`SMTP ingest: ${MESSAGES} messages of 10 KB per run, ${CONNECTIONS} connections`);
  // Warm-up (JIT, worker threads, connection pools), not counted.
  await blast(
    smtpPort,
    Array.from({ length: 100 }, (_, i) => tenKb(i, 'warm')),
  );
  await blast(
    bare.port,
    Array.from({ length: 100 }, (_, i) => tenKb(i, 'warm')),
  );
  let bestBare = 0;
  let bestRapport = 0;
  let acceptedTotal = 0;
  for (const round of [1, 2]) {
    const b = await blast(
      bare.port,
      Array.from({ length: MESSAGES }, (_, i) => tenKb(i, `bare${round}`)),
    );
    const r = await blast(
      smtpPort,
      Array.from({ length: MESSAGES }, (_, i) => tenKb(i, `r${round}`)),
    );
    acceptedTotal += r.accepted;
    const bareRate = b.accepted / b.seconds;
    const rapportRate = r.accepted / r.seconds;
    console.log(`  round ${round}: bare smtp-server ${fmt(bareRate, 0)} msg/s; Rapport ${fmt(rapportRate, 0)} msg/s (${r.accepted} accepted, ${r.failed} refused)`);
    bestBare = Math.max(bestBare, bareRate);
    bestRapport = Math.max(bestRapport, rapportRate);
  }
  console.log(`  ceiling (bare smtp-server, discard): ${fmt(bestBare, 0)} msg/s`);
  console.log(`  Rapport (parse + store before 250): ${fmt(bestRapport, 0)} msg/s`);
  console.log(`  ratio: ${fmt(bestRapport / bestBare, 3)}   (goal >= 0.5)`);

  const check = await withSystem(
    rapport.pool,
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
  const exact = check.n === acceptedTotal && check.distinct_ids === acceptedTotal && check.with_raw === acceptedTotal && check.with_message === acceptedTotal;
  console.log(
    `  stored exactly once: ${exact ? 'yes' : 'NO'} (accepted ${acceptedTotal}, rows ${check.n}, distinct Message-IDs ${check.distinct_ids}, with raw ${check.with_raw}, with message ${check.with_message})`,
  );

  // API p99 of the inbox list, idle and under a stream of 1,000-part messages.
  const listUrl = `${rapport.url}/api/v1/workspaces/${ws.id}/conversations?limit=50`;
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
  const drainStarted = performance.now();
  for (;;) {
    const backlog = await withSystem(
      rapport.pool,
      async (tx) =>
        (
          await tx.query<{ n: number }>(
            `select (select count(*) from events where dispatched_at is null)::int + (select count(*) from graphile_worker.jobs where run_at <= now() and attempts < max_attempts)::int as n`,
          )
        ).rows[0].n,
    );
    if (backlog === 0 || performance.now() - drainStarted > 180_000) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  console.log(`  (event and job backlog after the rounds drained in ${fmt((performance.now() - drainStarted) / 1000, 1)} s)`);
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
    rapport.pool,
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

  await bare.close();
  await rapport.stop();
  await close();
  if (!exact) process.exit(1);
}

await main();
