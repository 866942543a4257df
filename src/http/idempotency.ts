import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Pool } from '../db/pool.js';
import type { Task } from 'graphile-worker';
import { withSystem, withWorkspace } from '../db/tenancy.js';
import { defineError } from '../lib/errors.js';

export const idempotencyErrors = {
  reused: defineError('idempotency.key_reused', 409, 'This Idempotency-Key was used with a different request'),
  inProgress: defineError('idempotency.in_progress', 409, 'A request with this Idempotency-Key is still being processed'),
  invalidKey: defineError('idempotency.invalid_key', 422, 'The Idempotency-Key must be 1 to 255 visible characters'),
};

declare module 'fastify' {
  interface FastifyRequest {
    idempotencyKey?: string;
  }
}

/**
 * `Idempotency-Key` on POSTs inside a workspace. The first request claims the key (a row with no
 * answer yet); its answer is stored when it completes; a repeat with the same body replays that
 * answer, a different body is a 409, and a repeat while the first is running is a 409 too.
 * A failed first attempt (5xx) releases the key so the client can retry.
 * Keys last `IDEMPOTENCY_TTL` (24 h, as payment APIs do); a claim whose request never answered (the
 * process died in between) is abandoned after `ABANDONED_CLAIM`, so a retry is not a 409 forever.
 * The key and the work are separate transactions, so a process that dies after committing the work
 * but before storing the answer lets that retry run again: a rare double, never a lost request.
 */
export const IDEMPOTENCY_TTL = '24 hours';
export const ABANDONED_CLAIM = '2 minutes';
// graphile-worker's crontab admits no dots in task names.
export const PURGE_IDEMPOTENCY_TASK = 'idempotency:purge';

export function idempotencyHooks(pool: Pool) {
  const preHandler = async (request: FastifyRequest, reply: FastifyReply) => {
    const key = request.headers['idempotency-key'];
    if (request.method !== 'POST' || key === undefined) return;
    if (typeof key !== 'string' || !/^[\x21-\x7e]{1,255}$/.test(key)) throw idempotencyErrors.invalidKey();
    const ws = request.workspace;
    const hash = createHash('sha256').update(`${request.method} ${request.url}\n${JSON.stringify(request.body ?? null)}`).digest('hex');
    const existing = await withWorkspace(pool, ws.id, async (tx) => {
      const claimed = await tx.query(
        `insert into idempotency_keys (workspace_id, principal, key, request_hash) values ($1, $2, $3, $4)
         on conflict (workspace_id, principal, key) do update
           set request_hash = excluded.request_hash, status_code = null, response = null, content_type = null, created_at = now()
           where idempotency_keys.created_at < now() - interval '${IDEMPOTENCY_TTL}'
              or (idempotency_keys.status_code is null and idempotency_keys.created_at < now() - interval '${ABANDONED_CLAIM}')`,
        [ws.id, ws.principal, key, hash],
      );
      if (claimed.rowCount === 1) return null;
      const { rows } = await tx.query<{ request_hash: string; status_code: number | null; response: unknown; content_type: string | null }>(
        'select request_hash, status_code, response, content_type from idempotency_keys where workspace_id = $1 and principal = $2 and key = $3',
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
    reply.header('idempotent-replayed', 'true');
    return reply.code(existing.status_code).type(existing.content_type ?? 'application/json; charset=utf-8').serializer(JSON.stringify).send(existing.response);
  };

  const onSend = async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    const key = request.idempotencyKey;
    if (!key) return payload;
    const ws = request.workspace;
    if (reply.statusCode >= 500) {
      await withWorkspace(pool, ws.id, (tx) =>
        tx.query('delete from idempotency_keys where workspace_id = $1 and principal = $2 and key = $3', [ws.id, ws.principal, key]),
      );
      return payload;
    }
    let body: unknown = null;
    try {
      body = typeof payload === 'string' && payload.length ? JSON.parse(payload) : null;
    } catch {
      body = null;
    }
    await withWorkspace(pool, ws.id, (tx) =>
      tx.query('update idempotency_keys set status_code = $4, response = $5, content_type = $6 where workspace_id = $1 and principal = $2 and key = $3', [
        ws.id, ws.principal, key, reply.statusCode, JSON.stringify(body), String(reply.getHeader('content-type') ?? '') || null,
      ]),
    );
    return payload;
  };

  return { preHandler, onSend };
}

/** The hourly purge of keys past their lifetime (graphile-worker crontab). */
export function purgeIdempotencyKeys(pool: Pool): Task {
  return async () => {
    await withSystem(pool, (tx) => tx.query(`delete from idempotency_keys where created_at < now() - interval '${IDEMPOTENCY_TTL}'`));
  };
}
