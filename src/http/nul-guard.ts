import type { FastifyRequest } from 'fastify';
import { defineError, type FieldError } from '../lib/errors.js';
import type { App } from './types.js';

/**
 * NUL characters are refused at the edge (L4). PostgreSQL cannot store U+0000 in text or jsonb
 * ("invalid byte sequence", "unsupported Unicode escape sequence"), so one that reached a query
 * answered 500. No field of Rapport has a use for it, so every input is checked in one place instead
 * of each schema: the URL (path parameters and query string, raw or %00-encoded), every header
 * value (Idempotency-Key, Origin, cookies ...), and parsed JSON bodies, keys included, at any depth.
 */
export const nulCharacter = defineError('request.nul_character', 422, 'The request contains a NUL character');

const NUL = '\u0000';
/** %00 in any case; `%2500` is a literal "%00" once decoded, which is harmless text. */
const ENCODED_NUL = /%00/;

function urlProblem(request: FastifyRequest): FieldError | null {
  const url = request.raw.url ?? '';
  if (!url.includes(NUL) && !ENCODED_NUL.test(url)) return null;
  const q = url.indexOf('?');
  const inQuery = q >= 0 && (url.slice(q).includes(NUL) || ENCODED_NUL.test(url.slice(q)));
  return { path: inQuery ? 'querystring' : 'params', message: 'must not contain a NUL character' };
}

function headerProblem(request: FastifyRequest): FieldError | null {
  for (const [name, value] of Object.entries(request.headers)) {
    const values = Array.isArray(value) ? value : [value];
    if (values.some((v) => typeof v === 'string' && v.includes(NUL))) return { path: `headers.${name}`, message: 'must not contain a NUL character' };
  }
  return null;
}

/** The first string or key holding a NUL, as a dotted path (`body.tags.2`, `body.custom.<key>`). */
export function findNul(value: unknown, path = 'body', depth = 0): FieldError | null {
  if (typeof value === 'string') return value.includes(NUL) ? { path, message: 'must not contain a NUL character' } : null;
  // JSON.parse already bounds depth by the body limit; this bound only keeps the walk iterative-safe.
  if (value === null || typeof value !== 'object' || depth > 200) return null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findNul(value[i], `${path}.${i}`, depth + 1);
      if (found) return found;
    }
    return null;
  }
  if (Buffer.isBuffer(value)) return null;
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if (key.includes(NUL)) return { path: `${path}.${key.replaceAll(NUL, '\\u0000')}`, message: 'must not be a key with a NUL character' };
    const found = findNul(v, `${path}.${key}`, depth + 1);
    if (found) return found;
  }
  return null;
}

/** Registers the checks: URL and headers before anything else runs, bodies once parsed. */
export function refuseNulCharacters(app: App): void {
  app.addHook('onRequest', async (request) => {
    const problem = urlProblem(request) ?? headerProblem(request);
    if (problem) throw nulCharacter(undefined, { errors: [problem] });
  });
  app.addHook('preValidation', async (request) => {
    const problem = findNul(request.body);
    if (problem) throw nulCharacter(undefined, { errors: [problem] });
  });
}
