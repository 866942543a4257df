/**
 * Connection exhaustion (SECURITY M1): while attackers hold thousands of slow connections, slow
 * request bodies and WebSockets, are `/healthz` and a second tenant's API still answered in time?
 *
 * Layout (loopback only): this process runs the database and measures; Rapport runs in a forked
 * process of its own (as in production); a second forked process is the attacker. Linux routes all of
 * 127.0.0.0/8 to lo, so the attacker connects from 127.0.0.2..127.0.0.9 and the measurement from
 * 127.0.0.1, as different clients would.
 *
 * Phases: a baseline (no attack) and the same measurement under attack, in the same run, reported as
 * p50/p99 and the ratio of the p99s. The attack, bounded in time (BENCH_DURATION_S) and in count:
 *  - slow headers: BENCH_SLOW (default 6,000) connections spread over 8 addresses, each sending one
 *    header line every 2 s and reconnecting when cut, as a slowloris does;
 *  - slow bodies: 300 POSTs with tenant A's token, one body byte per second;
 *  - WebSockets: 600 realtime sockets with tenant A's token, reconnecting when refused.
 *  The attacker counts what it got: accepted, 408, 429, 503, 1013, dropped.
 *
 * Settings: BENCH_SLOW (6000), BENCH_DURATION_S (20), BENCH_SAMPLES (400 per phase and target).
 */
import { fork } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { loadConfig } from '../src/config.js';
import { systemClock } from '../src/lib/clock.js';
import { createLogger } from '../src/lib/logger.js';
import { createToken, createUserAccount, createWorkspace } from '../src/modules/workspaces/workspaces.service.js';
import { startRapport } from '../src/server.js';
import { benchDatabase, cpuSecondsOf, fmt, summarize } from './lib.js';

const SLOW = Number(process.env.BENCH_SLOW ?? 6000);
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 20);
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 400);
const SLOW_BODIES = Number(process.env.BENCH_SLOW_BODIES ?? 300);
const SOCKETS = Number(process.env.BENCH_SOCKETS ?? 600);
const ATTACK_ADDRESSES = Array.from({ length: 8 }, (_, i) => `127.0.0.${i + 2}`);

interface Target {
  url: string;
  port: number;
  attacker: { workspaceId: string; token: string };
  victim: { workspaceId: string; token: string };
}

// ---------------------------------------------------------------------------------------------
// Rapport, in its own process.
async function serverMain(): Promise<void> {
  const config = loadConfig({}, { databaseUrl: process.env.BENCH_DATABASE_URL!, host: '127.0.0.1', port: 0, smtpPort: 0, seedDemo: false, logLevel: 'silent' });
  const rapport = await startRapport(config, { log: createLogger('silent'), clock: systemClock, print: () => {} });
  const deps = rapport.server;
  const tenant = async (slug: string) => {
    const ownerId = await createUserAccount(deps, { email: `owner@${slug}.bench`, name: slug, password: 'bench password 123' });
    const { id: workspaceId } = await createWorkspace(deps, { name: slug, slug, ownerUserId: ownerId });
    const { token } = await createToken({ pool: deps.pool, clock: deps.clock, workspaceId, actor: { type: 'user', id: ownerId } }, 'owner', { name: 'bench', role: 'admin' });
    return { workspaceId, token };
  };
  const attacker = await tenant('attacker');
  const victim = await tenant('victim');
  const port = Number(new URL(rapport.url).port);
  if (process.env.BENCH_DEBUG) {
    let last = performance.now();
    setInterval(() => {
      const lag = performance.now() - last - 500;
      last = performance.now();
      const p = deps.pool as unknown as { totalCount: number; idleCount: number; waitingCount: number };
      if (lag > 200 || p.waitingCount > 0) console.error(`server: loop lag ${fmt(lag, 0)} ms, pool total ${p.totalCount} idle ${p.idleCount} waiting ${p.waitingCount}`);
    }, 500).unref();
  }
  process.send!({ kind: 'ready', target: { url: rapport.url, port, attacker, victim } satisfies Target });
  process.on('message', async (m: { kind: string }) => {
    if (m.kind === 'stats') process.send!({ kind: 'stats', rssMb: process.memoryUsage().rss / 1e6, cpu: cpuSecondsOf(process.pid) });
    if (m.kind === 'stop') {
      await rapport.stop();
      process.exit(0);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// The attacker, in its own process.
type Outcome = 'accepted' | '408' | '429' | '503' | '1013' | 'dropped' | 'other';

async function attackerMain(target: Target, durationMs: number): Promise<void> {
  // The deadline starts here: a child's start-up (tsx) can take seconds on a loaded machine.
  const untilMs = Date.now() + durationMs;
  const counts: Record<Outcome, number> = { accepted: 0, '408': 0, '429': 0, '503': 0, '1013': 0, dropped: 0, other: 0 };
  let open = 0;
  let peakOpen = 0;
  const live = () => Date.now() < untilMs;
  const timers = new Set<NodeJS.Timeout>();
  const later = (fn: () => void, ms: number) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };
  const sockets = new Set<net.Socket | WebSocket>();

  const rawConnection = (localAddress: string, head: string, drip: string, everyMs: number) => {
    if (!live()) return;
    const s = net.connect({ host: '127.0.0.1', port: target.port, localAddress });
    sockets.add(s);
    let first = '';
    let counted = false;
    let timer: NodeJS.Timeout | null = null;
    s.setEncoding('utf8');
    s.on('connect', () => {
      open++;
      peakOpen = Math.max(peakOpen, open);
      s.write(head);
      timer = setInterval(() => s.writable && s.write(drip), everyMs);
    });
    s.on('data', (d: string) => {
      if (!first) first = d;
    });
    s.on('error', (e) => {
      if (process.env.BENCH_DEBUG) console.error('attacker socket error', e.message);
    });
    s.on('close', (hadError) => {
      if (timer) clearInterval(timer);
      sockets.delete(s);
      if (s.remoteAddress || !hadError) open = Math.max(0, open - 1);
      if (!counted) {
        counted = true;
        const code = /^HTTP\/1\.1 (\d{3})/.exec(first)?.[1];
        counts[code === '408' || code === '429' || code === '503' ? code : first ? 'other' : 'dropped']++;
      }
      // A slowloris reconnects as soon as it is cut.
      later(() => rawConnection(localAddress, head, drip, everyMs), 50 + Math.random() * 200);
    });
  };

  const socket = (i: number) => {
    if (!live()) return;
    const ws = new WebSocket(`ws://127.0.0.1:${target.port}/api/v1/realtime?workspaceId=${target.attacker.workspaceId}`, {
      headers: { authorization: `Bearer ${target.attacker.token}` },
      localAddress: ATTACK_ADDRESSES[i % ATTACK_ADDRESSES.length],
    });
    sockets.add(ws);
    ws.on('message', () => {});
    ws.on('open', () => counts.accepted++);
    ws.on('error', () => {});
    ws.on('unexpected-response', (_req, res) => {
      counts[res.statusCode === 429 ? '429' : res.statusCode === 503 ? '503' : 'other']++;
      ws.terminate();
    });
    ws.on('close', (code) => {
      sockets.delete(ws);
      if (code === 1013) counts['1013']++;
      later(() => socket(i), 200 + Math.random() * 300);
    });
  };

  // Ramp up over ~3 s so the kernel's accept queue is not the thing measured.
  const perTick = Math.ceil(SLOW / 30);
  for (let i = 0; i < SLOW; i++) {
    if (i % perTick === 0) await new Promise((r) => setTimeout(r, 100));
    rawConnection(ATTACK_ADDRESSES[i % ATTACK_ADDRESSES.length]!, 'GET /healthz HTTP/1.1\r\nHost: localhost\r\n', 'X-Padding: slow\r\n', 2000);
  }
  const post = `POST /api/v1/workspaces/${target.attacker.workspaceId}/customers HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${target.attacker.token}\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{"name":"`;
  for (let i = 0; i < SLOW_BODIES; i++) rawConnection(ATTACK_ADDRESSES[i % ATTACK_ADDRESSES.length]!, post, 'a', 1000);
  for (let i = 0; i < SOCKETS; i++) socket(i);
  process.send!({ kind: 'engaged' });
  await new Promise((r) => setTimeout(r, Math.max(0, untilMs - Date.now())));
  for (const t of timers) clearTimeout(t);
  process.send!({ kind: 'result', counts, peakOpen, stillOpen: open });
  for (const s of sockets) s instanceof WebSocket ? s.terminate() : s.destroy();
  setTimeout(() => process.exit(0), 200);
}

// ---------------------------------------------------------------------------------------------
// Measurement, in this process: `SAMPLES` requests per target, 4 at a time, from 127.0.0.1.
async function measure(target: Target): Promise<{ healthz: number[]; victim: number[]; failures: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4, localAddress: '127.0.0.1' } as http.AgentOptions);
  let failures = 0;
  const once = (path: string, headers: Record<string, string> = {}) =>
    new Promise<number>((resolve) => {
      const start = performance.now();
      const req = http.get({ host: '127.0.0.1', port: target.port, path, agent, headers, timeout: 10_000 }, (res) => {
        res.resume();
        res.on('end', () => {
          if (process.env.BENCH_DEBUG && performance.now() - start > 1000) console.error(`slow: ${path.slice(0, 10)} ${res.statusCode} ${fmt(performance.now() - start)} ms`);
          if (res.statusCode !== 200) failures++;
          resolve(performance.now() - start);
        });
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (e) => {
        if (process.env.BENCH_DEBUG) console.error(`error: ${path.slice(0, 10)} ${e.message} ${fmt(performance.now() - start)} ms`);
        failures++;
        resolve(performance.now() - start);
      });
    });
  const run = async (path: string, headers?: Record<string, string>) => {
    const samples: number[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next++ < SAMPLES) samples.push(await once(path, headers));
      }),
    );
    return samples;
  };
  const healthz = await run('/healthz');
  const victim = await run(`/api/v1/workspaces/${target.victim.workspaceId}/conversations?limit=20`, { authorization: `Bearer ${target.victim.token}` });
  agent.destroy();
  return { healthz, victim, failures };
}

async function main(): Promise<void> {
  const { db, close } = await benchDatabase();
  const server = fork(fileURLToPath(import.meta.url), ['--server'], { execArgv: process.execArgv, stdio: 'inherit', env: { ...process.env, BENCH_DATABASE_URL: db.url } });
  const fromServer = <T>(kind: string) =>
    new Promise<T>((resolve) => {
      const on = (m: { kind: string }) => {
        if (m.kind === kind) {
          server.off('message', on);
          resolve(m as T);
        }
      };
      server.on('message', on);
    });
  try {
    const { target } = await fromServer<{ target: Target }>('ready');
    // Warm-up, then the baseline.
    await measure(target);
    const base = await measure(target);

    const attacker = fork(fileURLToPath(import.meta.url), ['--attacker', JSON.stringify(target), String(DURATION_S * 1000)], { execArgv: process.execArgv, stdio: 'inherit' });
    const result = new Promise<{ counts: Record<Outcome, number>; peakOpen: number; stillOpen: number }>((resolve) =>
      attacker.on('message', (m: { kind: string }) => m.kind === 'result' && resolve(m as never)),
    );
    await new Promise<void>((resolve) => attacker.on('message', (m: { kind: string }) => m.kind === 'engaged' && resolve()));
    // Let the sockets pile up (and the first timeouts pass) before measuring.
    await new Promise((r) => setTimeout(r, 3000));
    const loaded = await measure(target);
    server.send({ kind: 'stats' });
    const stats = await fromServer<{ rssMb: number; cpu: number }>('stats');
    const attack = await result;

    const row = (name: string, a: number[], b: number[]) => {
      const x = summarize(a);
      const y = summarize(b);
      console.log(`${name.padEnd(24)} baseline p50 ${fmt(x.p50)} ms  p99 ${fmt(x.p99)} ms | under attack p50 ${fmt(y.p50)} ms  p99 ${fmt(y.p99)} ms | p99 ratio ${fmt(y.p99 / x.p99)}x`);
    };
    console.log(`attack: ${SLOW} slow-header connections + ${SLOW_BODIES} slow bodies + ${SOCKETS} WebSockets of one token, from ${ATTACK_ADDRESSES.length} addresses, ${DURATION_S} s`);
    console.log(`samples: ${SAMPLES} per target and phase, 4 at a time, from 127.0.0.1`);
    row('/healthz', base.healthz, loaded.healthz);
    row('second tenant inbox', base.victim, loaded.victim);
    console.log(`failed measurement requests: baseline ${base.failures}, under attack ${loaded.failures}`);
    console.log(`attacker outcomes: ${JSON.stringify(attack.counts)}; its peak open sockets ${attack.peakOpen}`);
    console.log(`server after the attack: RSS ${fmt(stats.rssMb, 0)} MB, CPU ${fmt(stats.cpu, 1)} s`);
  } finally {
    server.send({ kind: 'stop' });
    await new Promise((r) => server.once('exit', r));
    await close();
  }
}

if (process.argv[2] === '--server') await serverMain();
else if (process.argv[2] === '--attacker') await attackerMain(JSON.parse(process.argv[3]!) as Target, Number(process.argv[4]));
else await main();
