import type { Socket } from 'node:net';
import { clientKey } from '../lib/net/client-address.js';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { defineError, type AppError } from '../lib/errors.js';
import { sendProblem } from './errors.js';
import type { App } from './types.js';

/**
 * Connection and request limits at the HTTP edge (M1): slow or numerous clients must not hold the
 * file descriptors, memory and event loop that everyone else needs (21,000 slow connections once took
 * /healthz down and starved the email sender of descriptors: EMFILE).
 *
 * - Time: headers within HTTP_HEADERS_TIMEOUT_MS, the whole request (body included) within
 *   HTTP_REQUEST_TIMEOUT_MS, idle keep-alive connections closed after HTTP_KEEP_ALIVE_TIMEOUT_MS. Node
 *   enforces these (server options, checked every `connectionsCheckingInterval`); the 408 is ours.
 * - Count: every accepted socket counts for its address (IPv6 per /64) and for the instance until it
 *   closes, WebSockets included. Over a limit the socket's first request is answered 429 (address) or
 *   503 (instance) with Connection: close, and a socket that sends nothing is cut after a second.
 *   Refused sockets do not count. Past twice the instance limit (admitted and refused together), Node
 *   drops new sockets unanswered (`server.maxConnections`): even refusing costs a descriptor, and that
 *   bound keeps descriptors for the rest of the process (the email sender once hit EMFILE).
 * - Principals: requests in progress per signed-in person or API token (429), so one credential
 *   spread over many addresses cannot take every worker either.
 */
export const edgeErrors = {
  tooManyConnections: defineError('request.too_many_connections', 429, 'Too many connections from your address; close some and try again'),
  overloaded: defineError('service.overloaded', 503, 'The server has too many connections right now; try again shortly'),
  tooManyRequests: defineError('request.too_many_in_progress', 429, 'Too many of your requests are in progress at once; wait for them and try again'),
  timeout: defineError('request.timeout', 408, 'The request was not received in time'),
  headersTooLarge: defineError('request.headers_too_large', 431, 'The request headers are too large'),
  badRequest: defineError('request.malformed', 400, 'The request could not be read'),
};

export interface ConnectionLimits {
  maxConnections: number;
  maxConnectionsPerIp: number;
}

/**
 * Node's own hard ceiling, as a multiple of the limit: refused sockets are not counted against the
 * limits (they live a second at most), so this is what bounds their descriptors during a flood.
 */
const HARD_CEILING_FACTOR = 2;
/** A refused socket that sends no request within this long is closed. */
const REFUSED_GRACE_MS = 1000;

const refusals = new WeakMap<Socket, AppError>();

/** Counts per key (address, principal); a key at zero is forgotten. */
export class KeyedCounter {
  private readonly counts = new Map<string, number>();
  add(key: string): number {
    const n = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, n);
    return n;
  }
  remove(key: string): void {
    const n = (this.counts.get(key) ?? 0) - 1;
    if (n > 0) this.counts.set(key, n);
    else this.counts.delete(key);
  }
  get(key: string): number {
    return this.counts.get(key) ?? 0;
  }
  get size(): number {
    return this.counts.size;
  }
}

/** Who a request acts as, for the per-principal count: a person (all their sessions) or a token. */
export function principalKey(request: FastifyRequest): string | null {
  const auth = request.auth;
  if (!auth) return null;
  return auth.kind === 'token' ? `token:${auth.tokenId}` : `user:${auth.userId}`;
}

/**
 * The key requests in progress are counted under: one browser session or one API token. A person's
 * browser holds at most six connections to a host, so one session cannot reach the limit by normal
 * use however many tabs it has open; a second device is a second session and gets its own budget.
 */
export function credentialKey(request: FastifyRequest): string | null {
  const auth = request.auth;
  if (!auth) return null;
  return auth.kind === 'token' ? `token:${auth.tokenId}` : `session:${auth.csrfToken}`;
}

/**
 * Counts sockets per address and in total. Call right after the app is built, before it listens,
 * and before the auth hook: a refused connection must cost no database look-up.
 */
export function limitConnections(app: App, limits: ConnectionLimits): { open(): number } {
  const server = app.server;
  const perAddress = new KeyedCounter();
  let total = 0;
  server.maxConnections = limits.maxConnections * HARD_CEILING_FACTOR;

  server.on('connection', (socket: Socket) => {
    const key = clientKey(socket.remoteAddress);
    // Only admitted sockets count: a flood of refused ones must not push others' count over a limit
    // (measured: it turned an attack from 8 addresses into 503s for everyone).
    const refusal =
      perAddress.get(key) >= limits.maxConnectionsPerIp
        ? edgeErrors.tooManyConnections(`At most ${limits.maxConnectionsPerIp} connections per address.`, { headers: { 'retry-after': '5', connection: 'close' } })
        : total >= limits.maxConnections
          ? edgeErrors.overloaded(undefined, { headers: { 'retry-after': '5', connection: 'close' } })
          : null;
    if (refusal) {
      refusals.set(socket, refusal);
      setTimeout(() => socket.destroy(), REFUSED_GRACE_MS).unref();
      return;
    }
    total++;
    perAddress.add(key);
    socket.once('close', () => {
      total--;
      perAddress.remove(key);
    });
  });

  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const refusal = refusals.get(request.raw.socket);
    if (refusal) return sendProblem(reply, refusal);
  });
  return { open: () => total };
}

/**
 * Requests in progress per credential, a browser session or an API token (after the auth hook). A WebSocket upgrade is not counted here:
 * the realtime hub counts its sockets with their own limit.
 */
export function limitRequestsPerCredential(app: App, max: number): void {
  const inProgress = new KeyedCounter();
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const key = credentialKey(request);
    if (!key || request.headers.upgrade) return;
    if (inProgress.add(key) > max) {
      inProgress.remove(key);
      throw edgeErrors.tooManyRequests(`At most ${max} requests at once.`, { headers: { 'retry-after': '1' } });
    }
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      inProgress.remove(key);
    };
    // 'finish' when answered, 'close' when the client went away first: either ends the request.
    reply.raw.once('finish', release);
    reply.raw.once('close', release);
  });
}

/**
 * Errors Node raises before a request reaches Fastify (a header or request timeout, oversized or
 * malformed headers), answered as problem+json like everything else, then the socket is closed.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const problem = error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? edgeErrors.timeout() : error.code === 'HPE_HEADER_OVERFLOW' ? edgeErrors.headersTooLarge() : edgeErrors.badRequest();
  if (socket.writable) {
    const body = JSON.stringify({ type: `/problems/${problem.code}`, title: problem.title, status: problem.status, code: problem.code });
    const reason = problem.status === 408 ? 'Request Timeout' : problem.status === 431 ? 'Request Header Fields Too Large' : 'Bad Request';
    socket.write(
      `HTTP/1.1 ${problem.status} ${reason}\r\nContent-Type: application/problem+json; charset=utf-8\r\n` + `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

/** Node's own timeouts, as Fastify server options. */
export function timeoutOptions(config: { httpHeadersTimeoutMs: number; httpRequestTimeoutMs: number; httpKeepAliveTimeoutMs: number }) {
  const headersTimeout = Math.min(config.httpHeadersTimeoutMs, config.httpRequestTimeoutMs);
  return {
    requestTimeout: config.httpRequestTimeoutMs,
    keepAliveTimeout: config.httpKeepAliveTimeoutMs,
    http: {
      headersTimeout,
      // Node checks the two timeouts above this often (30 s by default, which let a slow body live
      // 30 s past its deadline); a pass over the open connections every 1/4 of the shortest is cheap.
      connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(headersTimeout / 4))),
    },
  };
}
