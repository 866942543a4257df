import { commonErrors } from './errors.js';

/** Opaque keyset cursors: the sort key and id of the last row of a page, base64url-encoded. */
export function encodeCursor(parts: (string | number)[]): string {
  return Buffer.from(JSON.stringify(parts)).toString('base64url');
}

/**
 * What each part of a cursor must be. A cursor is opaque to clients but comes back from them, so
 * every part is checked here: a forged one that decodes must still never reach a `::timestamptz` or
 * `::uuid` cast in SQL (it would answer 500 instead of 422).
 * `timestamp?` also admits '' (the sort key of a row whose key is null).
 */
export type CursorPart = 'timestamp' | 'timestamp?' | 'uuid' | 'int';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// PostgreSQL's text form of timestamptz ("2026-12-02 00:01:29.123456+00") or ISO 8601 from JS.
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?(Z|[+-]\d{2}(:?\d{2}){0,2})$/;

function isTimestamp(value: string): boolean {
  const m = TIMESTAMP.exec(value);
  if (!m) return false;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number);
  const day = new Date(Date.UTC(y, mo - 1, d));
  return y >= 1 && day.getUTCFullYear() === y && day.getUTCMonth() === mo - 1 && day.getUTCDate() === d && h < 24 && mi < 60 && s < 60;
}

function partIsValid(kind: CursorPart, value: unknown): boolean {
  if (typeof value !== 'string' || value.length > 64) return false;
  switch (kind) {
    case 'uuid':
      return UUID.test(value);
    case 'int':
      return /^\d{1,18}$/.test(value);
    case 'timestamp':
      return isTimestamp(value);
    case 'timestamp?':
      return value === '' || isTimestamp(value);
  }
}

export function decodeCursor(cursor: string, shape: readonly CursorPart[]): string[] {
  try {
    const parts: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(parts) && parts.length === shape.length && parts.every((p, i) => partIsValid(shape[i], p))) return parts as string[];
  } catch {
    // fall through
  }
  throw commonErrors.validation(undefined, { errors: [{ path: 'querystring.cursor', message: 'is not a cursor this API issued' }] });
}
