import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { smtpPortOf } from '../src/modules/channels/email/email.testing.js';
import { openSocket, type TestSocket } from '../src/modules/realtime/realtime.test-client.js';
import { addTestMember, createTestWorkspace, eventually, signIn, startTestServer, tokenFor, type TestServer, type TestWorkspace } from './helpers.js';

/**
 * M1: slow and numerous clients. Every test here speaks over real sockets, from distinct loopback
 * addresses (Linux routes all of 127.0.0.0/8 to lo) when it needs "another address".
 */

interface RawConnection {
  socket: net.Socket;
  /** Everything the server sent so far. */
  received(): string;
  /** Resolves when the server closed the connection, with the milliseconds since it was opened. */
  closed: Promise<number>;
}

function connectRaw(port: number, localAddress = '127.0.0.1'): Promise<RawConnection> {
  return new Promise((resolve, reject) => {
    const openedAt = performance.now();
    const socket = net.connect({ host: '127.0.0.1', port, localAddress });
    let data = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (data += chunk));
    const closed = new Promise<number>((res) => socket.on('close', () => res(performance.now() - openedAt)));
    socket.on('error', () => {});
    socket.once('connect', () => resolve({ socket, received: () => data, closed }));
    socket.once('error', reject);
  });
}

/** Sends a whole GET and resolves with the status line's code and the body. */
async function get(port: number, path: string, opts: { localAddress?: string; headers?: Record<string, string> } = {}): Promise<{ status: number; body: string; raw: string }> {
  const c = await connectRaw(port, opts.localAddress);
  const headers = Object.entries({ host: 'localhost', connection: 'close', ...opts.headers })
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  c.socket.write(`GET ${path} HTTP/1.1\r\n${headers}\r\n`);
  await c.closed;
  const raw = c.received();
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1] ?? 0), body: raw.slice(raw.indexOf('\r\n\r\n') + 4), raw };
}

describe('HTTP limits', () => {
  let rapport: TestServer;
  let ws: TestWorkspace;
  let port: number;
  const open: RawConnection[] = [];

  beforeAll(async () => {
    rapport = await startTestServer({
      config: { httpRequestTimeoutMs: 1000, httpHeadersTimeoutMs: 1000, httpMaxConnections: 8, httpMaxConnectionsPerIp: 4, httpMaxRequestsPerCredential: 3 },
    });
    ws = await createTestWorkspace(rapport);
    port = new URL(rapport.url).port as unknown as number;
  });
  afterAll(async () => {
    for (const c of open) c.socket.destroy();
    await rapport?.stop();
  });

  it('cuts a client that sends its body slowly within the request timeout, with a 408 problem', async () => {
    const c = await connectRaw(port, '127.0.0.11');
    open.push(c);
    c.socket.write('POST /api/v1/auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"email":"');
    // One byte every 100 ms: never idle, never done.
    const drip = setInterval(() => c.socket.writable && c.socket.write('a'), 100);
    const after = await c.closed;
    clearInterval(drip);
    // The limit is 1 s; Node checks every 250 ms here.
    expect(after).toBeGreaterThanOrEqual(900);
    expect(after).toBeLessThan(2500);
    expect(c.received()).toMatch(/^HTTP\/1\.1 408/);
    expect(c.received()).toContain('application/problem+json');
    expect(c.received()).toContain('"code":"request.timeout"');
  });

  it('cuts a client that sends its headers slowly within the headers timeout', async () => {
    const c = await connectRaw(port, '127.0.0.12');
    open.push(c);
    c.socket.write('GET /healthz HTTP/1.1\r\n');
    const drip = setInterval(() => c.socket.writable && c.socket.write('X-A: b\r\n'), 100);
    const after = await c.closed;
    clearInterval(drip);
    expect(after).toBeLessThan(2500);
    expect(c.received()).toMatch(/^HTTP\/1\.1 408/);
  });

  it('refuses the connection past the per-address limit with a 429 problem, while other addresses are served', async () => {
    // Four idle connections from one address: the limit.
    for (let i = 0; i < 4; i++) open.push(await connectRaw(port, '127.0.0.13'));
    const fifth = await get(port, '/healthz', { localAddress: '127.0.0.13' });
    expect(fifth.status).toBe(429);
    expect(fifth.raw).toMatch(/content-type: application\/problem\+json/i);
    expect(fifth.raw).toMatch(/retry-after: 5/i);
    expect(JSON.parse(fifth.body)).toMatchObject({ status: 429, code: 'request.too_many_connections' });
    // Another address still gets through.
    expect((await get(port, '/healthz', { localAddress: '127.0.0.14' })).status).toBe(200);
    // Once the address closes its connections, it is served again.
    for (const c of open.splice(0)) c.socket.destroy();
    await eventually(async () => (await get(port, '/healthz', { localAddress: '127.0.0.13' })).status === 200);
  });

  it('a refused connection that sends nothing is closed within about a second', async () => {
    const held: RawConnection[] = [];
    for (let i = 0; i < 4; i++) held.push(await connectRaw(port, '127.0.0.15'));
    const silent = await connectRaw(port, '127.0.0.15');
    expect(await silent.closed).toBeLessThan(2000);
    for (const c of held) c.socket.destroy();
  });

  it('answers 503 past the instance limit, and a flood of refused sockets does not count toward it', async () => {
    const held: RawConnection[] = [];
    // One address at its limit, then six more of its sockets: refused, so not counted (counted, they
    // would fill the instance's eight places on their own). Node's own ceiling is twice the limit.
    for (let i = 0; i < 4; i++) held.push(await connectRaw(port, '127.0.0.16'));
    for (let i = 0; i < 6; i++) held.push(await connectRaw(port, '127.0.0.16'));
    // Another address still gets the four places left of the eight.
    for (let i = 0; i < 4; i++) held.push(await connectRaw(port, '127.0.0.17'));
    // Admitted: a request on one of them is served (kept alive, so it keeps its place).
    const admitted = held[held.length - 1]!;
    admitted.socket.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n');
    await eventually(async () => /\r\n\r\n/.test(admitted.received()), 5000, 20);
    expect(admitted.received()).toMatch(/^HTTP\/1\.1 200/);
    const over = await get(port, '/healthz', { localAddress: '127.0.0.18' });
    expect(over.status).toBe(503);
    expect(JSON.parse(over.body)).toMatchObject({ code: 'service.overloaded' });
    for (const c of held) c.socket.destroy();
    await eventually(async () => (await get(port, '/healthz', { localAddress: '127.0.0.18' })).status === 200);
  });

  it('limits the requests one principal has in progress (429), while another principal is served', async () => {
    const agent = await tokenFor(rapport, ws, 'agent');
    const other = await tokenFor(rapport, ws, 'agent');
    // Three requests whose bodies never finish: in progress for the agent's token, from three addresses.
    const slow: RawConnection[] = [];
    for (let i = 0; i < 3; i++) {
      const c = await connectRaw(port, `127.0.0.${21 + i}`);
      c.socket.write(
        `POST /api/v1/workspaces/${ws.workspaceId}/customers HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${agent}\r\n` +
          'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"name":"',
      );
      slow.push(c);
    }
    const path = `/api/v1/workspaces/${ws.workspaceId}/customers`;
    const refused = await eventually(async () => {
      const r = await get(port, path, { localAddress: '127.0.0.24', headers: { authorization: `Bearer ${agent}` } });
      return r.status === 429 ? r : null;
    }, 900);
    expect(JSON.parse(refused.body)).toMatchObject({ code: 'request.too_many_in_progress' });
    expect((await get(port, path, { localAddress: '127.0.0.24', headers: { authorization: `Bearer ${other}` } })).status).toBe(200);
    // When the slow requests end (here: cut by the request timeout), the agent is served again.
    await Promise.all(slow.map((c) => c.closed));
    expect((await get(port, path, { localAddress: '127.0.0.24', headers: { authorization: `Bearer ${agent}` } })).status).toBe(200);
  });
});

describe('WebSocket and SMTP limits', () => {
  let rapport: TestServer;
  let ws: TestWorkspace;
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    rapport = await startTestServer({
      config: { realtimeMaxSocketsPerPrincipal: 2, realtimeMaxSocketsPerIp: 5, smtpMaxConnectionsPerIp: 2 },
    });
    ws = await createTestWorkspace(rapport);
  });
  afterAll(async () => {
    for (const s of sockets) s.ws.terminate();
    await rapport?.stop();
  });

  async function connect(cookie: string): Promise<TestSocket> {
    const s = await openSocket(rapport.url, { workspaceId: ws.workspaceId, cookie });
    sockets.push(s);
    return s;
  }
  const isReady = (f: { type: string }) => f.type === 'ready';

  it('refuses the socket past one agent’s limit with 1013 and a reason, while another agent still connects', async () => {
    const ann = await addTestMember(rapport, ws, 'agent', 'ann');
    const bob = await addTestMember(rapport, ws, 'agent', 'bob');
    // Two sessions of one person count together.
    const annTab1 = await signIn(rapport, ann.email, ann.password);
    const annTab2 = await signIn(rapport, ann.email, ann.password);
    await (await connect(annTab1.cookie)).next(isReady);
    await (await connect(annTab2.cookie)).next(isReady);
    const third = await connect(annTab1.cookie);
    expect(await third.closed).toEqual({ code: 1013, reason: expect.stringMatching(/too many connections.*per person/) });
    const bobSocket = await connect((await signIn(rapport, bob.email, bob.password)).cookie);
    await bobSocket.next(isReady);
    // One of Ann's sockets closes: she may open another.
    sockets[0]!.close();
    await sockets[0]!.closed;
    await eventually(async () => {
      const again = await connect(annTab2.cookie);
      return Promise.race([again.next(isReady, 1000).then(() => true), again.closed.then(() => false)]);
    });
  });

  it('refuses the socket past one address’s limit with 1013', async () => {
    const open = sockets.filter((s) => s.ws.readyState === s.ws.OPEN).length;
    const cara = await addTestMember(rapport, ws, 'agent', 'cara');
    const dan = await addTestMember(rapport, ws, 'agent', 'dan');
    const caraCookie = (await signIn(rapport, cara.email, cara.password)).cookie;
    const danCookie = (await signIn(rapport, dan.email, dan.password)).cookie;
    const cookies = [caraCookie, caraCookie, danCookie, danCookie];
    for (let i = open; i < 5; i++) await (await connect(cookies[i - open]!)).next(isReady);
    const over = await connect(danCookie);
    expect(await over.closed).toEqual({ code: 1013, reason: expect.stringMatching(/too many connections.*per address/) });
  });

  it('answers SMTP 421 past the per-address limit and keeps serving other addresses', async () => {
    const smtpPort = smtpPortOf(rapport);
    const greeting = async (localAddress: string) => {
      const c = await connectRaw(smtpPort, localAddress);
      await eventually(async () => /\r\n/.test(c.received()), 5000, 20);
      return c;
    };
    const a = await greeting('127.0.0.31');
    const b = await greeting('127.0.0.31');
    expect(a.received()).toMatch(/^220 /);
    expect(b.received()).toMatch(/^220 /);
    const c = await greeting('127.0.0.31');
    expect(c.received()).toMatch(/^421 4\.7\.0 Too many connections/);
    await c.closed;
    const d = await greeting('127.0.0.32');
    expect(d.received()).toMatch(/^220 /);
    // A session that ends frees its place.
    a.socket.end('QUIT\r\n');
    await a.closed;
    // The server frees the place once it has seen the close: ask until it has (a 421 closes at once).
    const e = await eventually(async () => {
      const c = await greeting('127.0.0.31');
      if (/^220 /.test(c.received())) return c;
      c.socket.destroy();
      return null;
    });
    expect(e.received()).toMatch(/^220 /);
    for (const s of [b, d, e]) s.socket.destroy();
  });
});
