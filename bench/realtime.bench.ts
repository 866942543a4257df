/**
 * Realtime latency (issue 4): with 1,000 agent WebSocket connections spread over two Rapport
 * instances on one PostgreSQL, messages are created through the HTTP API at a steady rate; for each,
 * the delay from just before the POST until the LAST of the 1,000 sockets has received its
 * `message.created` event. The ceiling, measured in the same run with the same client process: a bare
 * `ws` server broadcasting a frame of the same shape and size to 1,000 sockets (delay from before the
 * first send until the last socket has it).
 *
 * Layout: this process runs the database, the load and the bare `ws` server; each Rapport instance
 * runs in a process of its own (startRapport, workers included, as in production: two instances
 * never share an event loop); a third forked child holds all 1,000 client sockets (so parsing 1,000
 * frames per message does not run on a server's event loop) and reports, per message, the wall-clock
 * time its last socket received it. All processes read the same clock
 * (performance.timeOrigin + performance.now()).
 *
 * Settings: BENCH_SOCKETS (1000), BENCH_RATE (messages per second, 20), BENCH_DURATION_S (15).
 */
import { fork, type ChildProcess } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import WebSocket, { WebSocketServer } from 'ws';
import { loadConfig } from '../src/config.js';
import { createPool } from '../src/db/pool.js';
import { systemClock } from '../src/lib/clock.js';
import { createLogger } from '../src/lib/logger.js';
import { addMember, createToken, createUserAccount, createWorkspace } from '../src/modules/workspaces/workspaces.service.js';
import { startRapport } from '../src/server.js';
import { BENCH_CLIENT_LIMITS, benchDatabase, cpuSecondsOf, fmt, summarize } from './lib.js';

const SOCKETS = Number(process.env.BENCH_SOCKETS ?? 1000);
const RATE = Number(process.env.BENCH_RATE ?? 20);
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 15);
const WARMUP = 20;
const AGENTS = 20;

const now = () => performance.timeOrigin + performance.now();

type ToChild =
  | { kind: 'open'; targets: Array<{ url: string; origin: string; cookie: string; count: number }>; key: 'messageId' }
  | { kind: 'open-bare'; url: string; count: number }
  | { kind: 'close' };
type FromChild = { kind: 'ready'; opened: number } | { kind: 'arrival'; id: string; at: number } | { kind: 'closed' };

// ---------------------------------------------------------------------------------------------
// The child: all client sockets.
async function clientMain(): Promise<void> {
  let sockets: WebSocket[] = [];
  let expected = 0;
  const counts = new Map<string, number>();
  const send = (m: FromChild) => process.send!(m);
  const onFrame = (text: string) => {
    const f = JSON.parse(text);
    let id: string | undefined;
    if (f.type === 'event' && f.event.type === 'message.created') id = f.event.data.messageId;
    else if (f.type === 'bare') id = f.event.data.messageId;
    if (!id) return;
    const n = (counts.get(id) ?? 0) + 1;
    if (n === expected) {
      counts.delete(id);
      send({ kind: 'arrival', id, at: now() });
    } else counts.set(id, n);
  };
  const open = (url: string, headers: Record<string, string>, origin?: string) =>
    new Promise<WebSocket>((resolve, reject) => {
      const ws = new WebSocket(url, { headers, ...(origin ? { origin } : {}), perMessageDeflate: false });
      let ready = !headers.cookie; // Rapport sockets are ready after their `ready` frame; bare ones at open
      ws.on('message', (data) => {
        const text = String(data);
        if (!ready) {
          if (JSON.parse(text).type === 'ready') {
            ready = true;
            resolve(ws);
          }
          return;
        }
        onFrame(text);
      });
      ws.once('open', () => {
        if (ready) resolve(ws);
      });
      ws.once('error', reject);
    });
  process.on('message', async (m: ToChild) => {
    if (m.kind === 'open') {
      expected = m.targets.reduce((s, t) => s + t.count, 0);
      for (const t of m.targets) {
        for (let i = 0; i < t.count; i += 50) {
          sockets.push(...(await Promise.all(Array.from({ length: Math.min(50, t.count - i) }, () => open(t.url, { cookie: t.cookie }, t.origin)))));
        }
      }
      send({ kind: 'ready', opened: sockets.length });
    } else if (m.kind === 'open-bare') {
      for (const s of sockets) s.terminate();
      sockets = [];
      counts.clear();
      expected = m.count;
      for (let i = 0; i < m.count; i += 50) {
        sockets.push(...(await Promise.all(Array.from({ length: Math.min(50, m.count - i) }, () => open(m.url, {})))));
      }
      send({ kind: 'ready', opened: sockets.length });
    } else if (m.kind === 'close') {
      for (const s of sockets) s.terminate();
      send({ kind: 'closed' });
      setTimeout(() => process.exit(0), 50);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// A server child: one Rapport instance on the shared database.
async function serverMain(): Promise<void> {
  const config = loadConfig({}, { databaseUrl: process.env.BENCH_DATABASE_URL!, host: '127.0.0.1', port: 0, smtpPort: 0, seedDemo: false, logLevel: 'silent', ...BENCH_CLIENT_LIMITS });
  const rapport = await startRapport(config, { print: () => {}, log: createLogger('silent') });
  process.on('message', async (m: { kind: string }) => {
    if (m.kind !== 'stop') return;
    await rapport.stop();
    process.send!({ kind: 'stopped' });
    setTimeout(() => process.exit(0), 50);
  });
  process.send!({ kind: 'listening', url: rapport.url });
}

async function startInstance(databaseUrl: string): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  const child = fork(fileURLToPath(import.meta.url), ['--server'], {
    execArgv: [...process.execArgv, ...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [])],
    stdio: 'inherit',
    env: { ...process.env, BENCH_DATABASE_URL: databaseUrl },
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('message', (m: { kind: string; url: string }) => (m.kind === 'listening' ? resolve(m.url) : reject(new Error(m.kind))));
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  return {
    url,
    pid: child.pid!,
    stop: () =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          child.kill('SIGKILL');
          resolve();
        }, 10_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.send({ kind: 'stop' });
      }),
  };
}

// ---------------------------------------------------------------------------------------------
// The parent: database, the load, the bare server; two Rapport instances in their own processes.
function waitFor<T extends FromChild['kind']>(child: ChildProcess, kind: T): Promise<Extract<FromChild, { kind: T }>> {
  return new Promise((resolve) => {
    const on = (m: FromChild) => {
      if (m.kind === kind) {
        child.off('message', on);
        resolve(m as Extract<FromChild, { kind: T }>);
      }
    };
    child.on('message', on);
  });
}

async function main(): Promise<void> {
  const { db, close } = await benchDatabase();
  const a = await startInstance(db.url);
  const b = await startInstance(db.url);
  const pool = createPool(db.url, { max: 4, applicationName: 'bench-setup' });
  const child = fork(fileURLToPath(import.meta.url), ['--clients'], { execArgv: process.execArgv, stdio: 'inherit' });
  const arrivals = new Map<string, number>();
  const waiting = new Map<string, (at: number) => void>();
  child.on('message', (m: FromChild) => {
    if (m.kind !== 'arrival') return;
    const w = waiting.get(m.id);
    if (w) {
      waiting.delete(m.id);
      w(m.at);
    } else arrivals.set(m.id, m.at);
  });
  const arrivalOf = (id: string, timeoutMs = 10_000) =>
    new Promise<number>((resolve, reject) => {
      const at = arrivals.get(id);
      if (at !== undefined) {
        arrivals.delete(id);
        return resolve(at);
      }
      const timer = setTimeout(() => {
        waiting.delete(id);
        reject(new Error(`message ${id} did not reach every socket within ${timeoutMs} ms`));
      }, timeoutMs);
      waiting.set(id, (t) => {
        clearTimeout(timer);
        resolve(t);
      });
    });

  try {
    // A workspace, its admin token, and AGENTS agents signed in (the 1,000 sockets share their sessions, as tabs do).
    const deps = { pool, clock: systemClock };
    const ownerId = await createUserAccount(deps, { email: 'owner@bench.test', name: 'Owner' });
    const { id: workspaceId } = await createWorkspace(deps, { name: 'Bench', slug: 'bench-realtime', ownerUserId: ownerId });
    const wsDeps = { pool: deps.pool, clock: deps.clock, workspaceId, actor: { type: 'user' as const, id: ownerId } };
    const { token } = await createToken(wsDeps, 'owner', { name: 'bench', role: 'admin' });
    const cookies: string[] = [];
    for (let i = 0; i < AGENTS; i++) {
      const email = `agent${i}@bench.test`;
      await addMember(wsDeps, 'owner', { email, name: `Agent ${i}`, role: 'agent', password: 'bench password 123' });
      const res = await fetch(`${a.url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password: 'bench password 123' }) });
      const cookie = /rapport_session=[^;]+/.exec(res.headers.get('set-cookie') ?? '')?.[0];
      if (!cookie) throw new Error(`login failed: ${res.status}`);
      cookies.push(cookie);
    }
    const api = async (base: string, path: string, body: unknown) => {
      const res = await fetch(`${base}/api/v1/workspaces/${workspaceId}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (res.status >= 300) throw new Error(`POST ${path}: ${res.status} ${await res.text()}`);
      return res.json() as Promise<{ id: string }>;
    };
    // Messages go to 20 conversations in turn, as in a real inbox (one conversation would serialise
    // every write on its row lock and measure that instead).
    const conversations: Array<{ id: string }> = [];
    for (let i = 0; i < 20; i++) conversations.push(await api(a.url, '/conversations', { customer: { email: `customer${i}@bench.test`, name: `Customer ${i}` }, message: { body: 'hello' } }));
    const conversation = conversations[0];

    // 1,000 sockets, half on each instance, each with one of the agents' sessions.
    const url = (base: string) => `${base.replace(/^http/, 'ws')}/api/v1/realtime?workspaceId=${workspaceId}`;
    const half = Math.floor(SOCKETS / 2);
    const targets = [
      ...cookies.map((cookie, i) => ({ url: url(a.url), origin: a.url, cookie, count: Math.floor(half / AGENTS) + (i < half % AGENTS ? 1 : 0) })),
      ...cookies.map((cookie, i) => ({ url: url(b.url), origin: b.url, cookie, count: Math.floor((SOCKETS - half) / AGENTS) + (i < (SOCKETS - half) % AGENTS ? 1 : 0) })),
    ];
    child.send({ kind: 'open', targets, key: 'messageId' } satisfies ToChild);
    const opened = await waitFor(child, 'ready');
    process.stdout.write(`sockets: ${opened.opened} (${half} on instance A, ${SOCKETS - half} on instance B), ${AGENTS} agents\n`);

    // Steady load: one message every 1/RATE s, alternating the instance that takes the POST.
    const total = WARMUP + Math.round(RATE * DURATION_S);
    const delivery: number[] = [];
    let missed = 0;
    const apiTimes: number[] = [];
    const runs: Promise<void>[] = [];
    const serverCpu = () => cpuSecondsOf(a.pid) + cpuSecondsOf(b.pid);
    const cpu0 = serverCpu();
    const t0 = now();
    for (let i = 0; i < total; i++) {
      const due = t0 + (i * 1000) / RATE;
      const wait = due - now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const base = i % 2 === 0 ? a.url : b.url;
      runs.push(
        (async () => {
          const sent = now();
          const msg = await api(base, `/conversations/${conversations[i % conversations.length].id}/messages`, { type: 'note', body: `bench note ${i}` });
          const answered = now();
          const last = await arrivalOf(msg.id).catch(() => null);
          if (last === null) missed++;
          else if (i >= WARMUP) {
            delivery.push(last - sent);
            apiTimes.push(answered - sent);
          }
        })(),
      );
    }
    await Promise.all(runs);
    const rapportCpuMs = ((serverCpu() - cpu0) * 1000) / total;
    const rapport = summarize(delivery);
    const apiSummary = summarize(apiTimes);

    // The ceiling: a bare ws server broadcasting a frame of the same shape to the same number of sockets.
    const bare = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
    await new Promise((r) => bare.once('listening', r));
    child.send({ kind: 'open-bare', url: `ws://127.0.0.1:${(bare.address() as AddressInfo).port}`, count: SOCKETS } satisfies ToChild);
    await waitFor(child, 'ready');
    const bareTimes: number[] = [];
    let bareMissed = 0;
    const bareRuns: Promise<void>[] = [];
    const bcpu0 = process.cpuUsage();
    const b0 = now();
    for (let i = 0; i < total; i++) {
      const due = b0 + (i * 1000) / RATE;
      const wait = due - now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const id = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
      const frame = Buffer.from(
        JSON.stringify({
          type: 'bare',
          event: {
            id: String(100000 + i),
            type: 'message.created',
            conversationId: conversation.id,
            actor: { type: 'token', id: conversation.id },
            data: { messageId: id, messageType: 'note' },
            createdAt: new Date().toISOString(),
          },
        }),
      );
      const sent = now();
      for (const client of bare.clients) client.send(frame, { binary: false });
      bareRuns.push(
        arrivalOf(id).then(
          (last) => {
            if (i >= WARMUP) bareTimes.push(last - sent);
          },
          () => {
            bareMissed++;
          },
        ),
      );
    }
    await Promise.all(bareRuns);
    const bcpu1 = process.cpuUsage(bcpu0);
    const bareCpuMs = (bcpu1.user + bcpu1.system) / 1000 / total;
    const ceiling = summarize(bareTimes);
    bare.close();

    const line = (name: string, s: { p50: number; p95: number; p99: number; n: number }) =>
      `${name.padEnd(44)} p50 ${fmt(s.p50).padStart(7)} ms   p95 ${fmt(s.p95).padStart(7)} ms   p99 ${fmt(s.p99).padStart(7)} ms   (n=${s.n})\n`;
    process.stdout.write(`not delivered to every socket within 10 s: Rapport ${missed}, bare ws ${bareMissed} (of ${total} each)\n`);
    process.stdout.write(`rate: ${RATE} messages/s for ${DURATION_S} s (after ${WARMUP} warm-up messages)\n`);
    process.stdout.write(line('Rapport: POST -> last of all sockets', rapport));
    process.stdout.write(line('  of which the POST itself (API answer)', apiSummary));
    process.stdout.write(line('bare ws broadcast -> last of all sockets', ceiling));
    process.stdout.write(`ratio Rapport / bare ws: p50 ${fmt(rapport.p50 / ceiling.p50)}x   p99 ${fmt(rapport.p99 / ceiling.p99)}x\n`);
    process.stdout.write(
      `server-side CPU per message: Rapport (both instance processes) ${fmt(rapportCpuMs)} ms (API + database client + fan-out to ${SOCKETS}), bare ws (this process) ${fmt(bareCpuMs)} ms\n`,
    );
    process.stdout.write(`goal p99 <= 100 ms: ${rapport.p99 <= 100 ? 'met' : 'NOT met'}\n`);
    process.stdout.write(
      `machine: ${os.cpus().length} cores, load average at the end ${os
        .loadavg()
        .map((l) => fmt(l))
        .join(' / ')} (figures are only comparable at low load)\n`,
    );
  } finally {
    child.send({ kind: 'close' } satisfies ToChild);
    await Promise.race([waitFor(child, 'closed'), new Promise((r) => setTimeout(r, 2000))]);
    await pool.end();
    await Promise.all([a.stop(), b.stop()]);
    await close();
  }
}

if (process.argv.includes('--clients')) void clientMain();
else if (process.argv.includes('--server')) void serverMain();
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
