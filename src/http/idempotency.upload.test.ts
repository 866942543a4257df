import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestWorkspace, startTestServer, type TestServer, type TestWorkspace } from '../../test/helpers.js';
import { withSystem } from '../db/tenancy.js';

// SECURITY M2: the fingerprint of a 10 MB upload was JSON.stringify(Buffer) hashed on the event loop
// (1.16 s blocked per upload, every other tenant waiting). The bytes are now hashed as they stream in.
const TEN_MB = 10 * 1024 * 1024;
let rapport: TestServer;
let a: TestWorkspace;
let b: TestWorkspace;

beforeAll(async () => {
  rapport = await startTestServer();
  a = await createTestWorkspace(rapport);
  b = await createTestWorkspace(rapport);
});
afterAll(async () => rapport?.stop());

/** One request over a real socket; the body is written in 64 KiB chunks, as a client streams it. */
function send(method: string, path: string, token: string, body?: Buffer, headers: Record<string, string> = {}) {
  const { port } = new URL(rapport.url);
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string; ms: number }>((resolve, reject) => {
    const started = performance.now();
    const req = http.request(
      {
        host: '127.0.0.1',
        port: Number(port),
        method,
        path,
        headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/octet-stream', 'content-length': String(body.length) } : {}), ...headers },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, ms: performance.now() - started }));
      },
    );
    req.on('error', reject);
    if (body) for (let i = 0; i < body.length; i += 65536) req.write(body.subarray(i, i + 65536));
    req.end();
  });
}

const uploadPath = (name: string) => `/api/v1/workspaces/${a.workspaceId}/email/uploads?name=${name}`;
const uploads = async (name: string) =>
  withSystem(rapport.pool, async (tx) => (await tx.query<{ n: number }>('select count(*)::int as n from attachments where uploader is not null and filename = $1', [name])).rows[0].n);

/**
 * Runs `work` while another tenant reads its workspace every few ms: the event loop's longest delay,
 * this process's CPU time, and the other tenant's slowest answer.
 */
async function measured<T>(work: () => Promise<T>) {
  const delay = monitorEventLoopDelay({ resolution: 5 });
  const otherTenant: number[] = [];
  let running = true;
  const probe = (async () => {
    while (running) {
      const res = await send('GET', `/api/v1/workspaces/${b.workspaceId}`, b.token);
      expect(res.status).toBe(200);
      otherTenant.push(res.ms);
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  delay.enable();
  const cpu = process.cpuUsage();
  const result = await work();
  const used = process.cpuUsage(cpu);
  delay.disable();
  running = false;
  await probe;
  return { result, cpuMs: (used.user + used.system) / 1000, maxDelayMs: delay.max / 1e6, otherTenantWorstMs: Math.max(0, ...otherTenant) };
}
const fmt = (m: { cpuMs: number; maxDelayMs: number; otherTenantWorstMs: number }) =>
  `CPU ${m.cpuMs.toFixed(0)} ms, event loop max delay ${m.maxDelayMs.toFixed(0)} ms, other tenant worst ${m.otherTenantWorstMs.toFixed(0)} ms`;

describe('Idempotency-Key on a 10 MB upload (M2)', () => {
  it('keeps the event loop and another tenant responsive, and still replays or refuses by the bytes', async () => {
    const file = randomBytes(TEN_MB);
    // Warm up the upload path (JIT, pools) so neither measurement pays for it.
    expect((await send('POST', uploadPath('warm.bin'), a.token, file.subarray(0, 1 << 20))).status).toBe(201);
    // The same upload without a key first: what the upload itself costs on this machine right now.
    const plain = await measured(() => send('POST', uploadPath('plain.bin'), a.token, file));
    const keyed = await measured(async () => {
      const first = await send('POST', uploadPath('big.bin'), a.token, file, { 'idempotency-key': 'big-upload-1' });
      const again = await send('POST', uploadPath('big.bin'), a.token, file, { 'idempotency-key': 'big-upload-1' });
      return [first, again] as const;
    });
    const [first, again] = keyed.result;
    expect(plain.result.status).toBe(201);
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(JSON.parse(again.body)).toEqual(JSON.parse(first.body));
    expect(await uploads('big.bin')).toBe(1);
    // The stored checksum, hashed as the bytes streamed in, is the file's.
    const [stored] = await withSystem(rapport.pool, async (tx) => (await tx.query<{ sha256: Buffer }>("select sha256 from attachments where uploader is not null and filename = 'big.bin'")).rows);
    expect(stored.sha256.toString('hex')).toBe(createHash('sha256').update(file).digest('hex'));

    console.info(`10 MB upload, no key: ${fmt(plain)}; with a key, then its replay: ${fmt(keyed)}`);
    // Before: JSON.stringify of the Buffer (a 36 MB string) and its hash cost over a second of CPU per
    // upload, all of it in one block of the event loop (1.16 s measured on an idle machine; 2-3.5 s on
    // this busy one), and the other tenant waited as long. The key now adds a streamed hash only. CPU
    // time is the robust measure on a shared machine; the wall-clock bounds leave room for its load.
    expect(keyed.cpuMs - 2 * plain.cpuMs).toBeLessThan(300);
    expect(keyed.maxDelayMs).toBeLessThan(Math.max(750, 3 * plain.maxDelayMs));
    expect(keyed.otherTenantWorstMs).toBeLessThan(Math.max(1000, 3 * plain.otherTenantWorstMs));

    // The same key with other bytes (one byte changed) is refused, and nothing is stored.
    const changed = Buffer.from(file);
    changed[TEN_MB - 1] ^= 1;
    const other = await send('POST', uploadPath('big.bin'), a.token, changed, { 'idempotency-key': 'big-upload-1' });
    expect(other.status).toBe(409);
    expect(other.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(other.body).code).toBe('idempotency.key_reused');
    expect(await uploads('big.bin')).toBe(1);
  }, 120_000);

  it('tells two uploads apart by their name even when the bytes are the same', async () => {
    const file = randomBytes(1000);
    expect((await send('POST', uploadPath('one.bin'), a.token, file, { 'idempotency-key': 'small-1' })).status).toBe(201);
    const renamed = await send('POST', uploadPath('two.bin'), a.token, file, { 'idempotency-key': 'small-1' });
    expect(renamed.status).toBe(409);
    expect(JSON.parse(renamed.body).code).toBe('idempotency.key_reused');
  });
});
