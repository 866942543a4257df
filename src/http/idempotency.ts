import { createHmac, type Hmac } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import type { Task } from 'graphile-worker';
import type { Config } from '../config.js';
import type { Pool } from '../db/pool.js';
import { withSystem, withWorkspace } from '../db/tenancy.js';
import { defineError } from '../lib/errors.js';
import { loadInstanceKey } from '../lib/instance-key.js';
import { digestWhileStreaming } from './body-digest.js';

export const idempotencyErrors = {
  reused: defineError('idempotency.key_reused', 409, 'This Idempotency-Key was used with a different request'),
  inProgress: defineError('idempotency.in_progress', 409, 'A request with this Idempotency-Key is still being processed'),
  invalidKey: defineError('idempotency.invalid_key', 422, 'The Idempotency-Key must be 1 to 255 visible characters'),
  notReplayable: defineError(
    'idempotency.not_replayable',
    409,
    'The request with this Idempotency-Key already succeeded; its answer held a secret, which is shown once and never stored. List the resource to find what it created',
  ),
};

/**
 * What a route declares about `Idempotency-Key` (route config `idempotency`). Declared, never guessed
 * from field names: a route that answers a secret says so.
 */
export interface IdempotencyPolicy {
  /**
   * false: the answer carries a secret (an API token, an invitation link) and is never stored. A
   * repeat of a request that succeeded answers 409 `idempotency.not_replayable` (nothing runs twice);
   * an answer that refused the request (4xx) releases the key, like a 5xx, so a corrected retry runs.
   */
  replay?: boolean;
  /**
   * Body fields (dotted paths) that hold secrets such as passwords. They never enter the fingerprint:
   * only whether they were present does.
   */
  secretFields?: string[];
}

declare module 'fastify' {
  interface FastifyRequest {
    idempotencyKey?: string;
    /** The HMAC of the request line and its raw body, updated chunk by chunk as the body streams in. */
    idempotencyDigest?: Hmac;
  }
  interface FastifyContextConfig {
    /** How an Idempotency-Key treats this route (SECURITY M6); the default replays any answer. */
    idempotency?: IdempotencyPolicy;
  }
}

/**
 * `Idempotency-Key` on POSTs inside a workspace. The first request claims the key (a row with no
 * answer yet); its answer is stored when it completes; a repeat with the same request replays that
 * answer, a different request is a 409, and a repeat while the first is running is a 409 too.
 * A failed first attempt (5xx) releases the key so the client can retry.
 * Keys last `IDEMPOTENCY_TTL` (24 h, as payment APIs do); a claim whose request never answered (the
 * process died in between) is abandoned after `ABANDONED_CLAIM`, so a retry is not a 409 forever.
 * The key and the work are separate transactions, so a process that dies after committing the work
 * but before storing the answer lets that retry run again: a rare double, never a lost request.
 *
 * "The same request" is the fingerprint: an HMAC-SHA256, keyed by a server secret that is not in the
 * database, of the method, the URL and the body's raw bytes, hashed as they stream in (SECURITY M2:
 * a 10 MB upload used to be JSON.stringify'd and hashed in one go, blocking the event loop for a
 * second). A route that declares `secretFields` is fingerprinted from its parsed body with those
 * fields blanked instead, so a password never enters a hash (M6); its JSON bodies are small.
 */
export const IDEMPOTENCY_TTL = '24 hours';
export const ABANDONED_CLAIM = '2 minutes';
// graphile-worker's crontab admits no dots in task names.
export const PURGE_IDEMPOTENCY_TASK = 'idempotency:purge';
const KEY_RE = /^[\x21-\x7e]{1,255}$/;

/**
 * The fingerprint key: derived from IDEMPOTENCY_SECRET, or from a random secret made once and kept
 * (mode 600) in DATA_DIR, so fingerprints survive a restart (a retry after a crash still replays).
 */
export function loadFingerprintKey(config: Pick<Config, 'dataDir' | 'idempotencySecret'>): Promise<Buffer> {
  return loadInstanceKey({
    dataDir: config.dataDir,
    value: config.idempotencySecret,
    file: 'idempotency-secret',
    setting: 'IDEMPOTENCY_SECRET',
    what: 'Idempotency-Key secret',
    purpose: 'idempotency request fingerprint v1',
  });
}

function wantsKey(request: FastifyRequest): string | null {
  const key = request.headers['idempotency-key'];
  return request.method === 'POST' && typeof key === 'string' && KEY_RE.test(key) ? key : null;
}

const policyOf = (request: FastifyRequest): IdempotencyPolicy => request.routeOptions.config?.idempotency ?? {};

/** The value with the field at `path` replaced by a marker: its presence counts, never its value. */
function blank(value: unknown, [head, ...rest]: string[]): unknown {
  if (head === undefined || value === null || typeof value !== 'object' || Array.isArray(value) || !Object.hasOwn(value, head)) return value;
  const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  copy[head] = rest.length ? blank(copy[head], rest) : '[secret]';
  return copy;
}

export function idempotencyHooks(pool: Pool, fingerprintKey: Buffer) {
  const requestLine = (request: FastifyRequest) => createHmac('sha256', fingerprintKey).update(`${request.method} ${request.url}\n`);

  /** Hashes the raw body as it streams in: each chunk once, on its way to the body parser. */
  const preParsing = async (request: FastifyRequest, _reply: FastifyReply, payload: Readable) => {
    if (!wantsKey(request) || policyOf(request).secretFields?.length) return payload;
    const digest = requestLine(request);
    request.idempotencyDigest = digest;
    return digestWhileStreaming(payload, digest);
  };

  const fingerprint = (request: FastifyRequest): string => {
    if (request.idempotencyDigest) return request.idempotencyDigest.digest('hex');
    const secretFields = policyOf(request).secretFields ?? [];
    const body = secretFields.reduce<unknown>((b, field) => blank(b, field.split('.')), request.body ?? null);
    return requestLine(request)
      .update(Buffer.isBuffer(body) ? body : JSON.stringify(body))
      .digest('hex');
  };

  const preHandler = async (request: FastifyRequest, reply: FastifyReply) => {
    const key = request.headers['idempotency-key'];
    if (request.method !== 'POST' || key === undefined) return;
    if (typeof key !== 'string' || !KEY_RE.test(key)) throw idempotencyErrors.invalidKey();
    const ws = request.workspace;
    const hash = fingerprint(request);
    const existing = await withWorkspace(pool, ws.id, async (tx) => {
      const claimed = await tx.query(
        `insert into idempotency_keys (workspace_id, principal, key, request_hash) values ($1, $2, $3, $4)
         on conflict (workspace_id, principal, key) do update
           set request_hash = excluded.request_hash, status_code = null, response = null, content_type = null, replayable = true, created_at = now()
           where idempotency_keys.created_at < now() - interval '${IDEMPOTENCY_TTL}'
              or (idempotency_keys.status_code is null and idempotency_keys.created_at < now() - interval '${ABANDONED_CLAIM}')`,
        [ws.id, ws.principal, key, hash],
      );
      if (claimed.rowCount === 1) return null;
      const { rows } = await tx.query<{ request_hash: string; status_code: number | null; response: unknown; content_type: string | null; replayable: boolean }>(
        'select request_hash, status_code, response, content_type, replayable from idempotency_keys where workspace_id = $1 and principal = $2 and key = $3',
        [ws.id, ws.principal, key],
      );
      return rows[0] ?? null;
    });
    if (!existing) {
      request.idempotencyKey = key;
      return;
    }
    if (existing.request_hash !== hash) throw idempotencyErrors.reused();
    if (existing.status_code === null) throw idempotencyErrors.inProgress();
    if (!existing.replayable) throw idempotencyErrors.notReplayable();
    reply.header('idempotent-replayed', 'true');
    return reply
      .code(existing.status_code)
      .type(existing.content_type ?? 'application/json; charset=utf-8')
      .serializer(JSON.stringify)
      .send(existing.response);
  };

  const onSend = async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    const key = request.idempotencyKey;
    if (!key) return payload;
    const ws = request.workspace;
    const replay = policyOf(request).replay !== false;
    if (reply.statusCode >= 500 || (!replay && reply.statusCode >= 400)) {
      await withWorkspace(pool, ws.id, (tx) => tx.query('delete from idempotency_keys where workspace_id = $1 and principal = $2 and key = $3', [ws.id, ws.principal, key]));
      return payload;
    }
    // Only a JSON (or empty) answer is stored; bytes or a stream are not kept, so not replayed.
    const stored = replay && (payload === undefined || payload === null || typeof payload === 'string');
    let body: unknown = null;
    if (stored) {
      try {
        body = typeof payload === 'string' && payload.length ? JSON.parse(payload) : null;
      } catch {
        body = null;
      }
    }
    await withWorkspace(pool, ws.id, (tx) =>
      tx.query('update idempotency_keys set status_code = $4, response = $5, content_type = $6, replayable = $7 where workspace_id = $1 and principal = $2 and key = $3', [
        ws.id,
        ws.principal,
        key,
        reply.statusCode,
        stored ? JSON.stringify(body) : null,
        stored ? String(reply.getHeader('content-type') ?? '') || null : null,
        stored,
      ]),
    );
    return payload;
  };

  /** The API docs say which answers an Idempotency-Key will not replay. */
  const onRoute = (route: RouteOptions) => {
    if (route.config?.idempotency?.replay !== false || !route.schema) return;
    const note = 'Idempotency-Key: the answer holds a secret, shown once and never stored; repeating a request that succeeded answers 409 idempotency.not_replayable.';
    route.schema.description = route.schema.description ? `${route.schema.description} ${note}` : note;
  };

  return { onRoute, preParsing, preHandler, onSend };
}

/** The hourly purge of keys past their lifetime (graphile-worker crontab). */
export function purgeIdempotencyKeys(pool: Pool): Task {
  return async () => {
    await withSystem(pool, (tx) => tx.query(`delete from idempotency_keys where created_at < now() - interval '${IDEMPOTENCY_TTL}'`));
  };
}
