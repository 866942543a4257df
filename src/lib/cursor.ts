import { commonErrors } from './errors.js';

/** Opaque keyset cursors: the sort key and id of the last row of a page, base64url-encoded. */
export function encodeCursor(parts: (string | number)[]): string {
  return Buffer.from(JSON.stringify(parts)).toString('base64url');
}

export function decodeCursor(cursor: string, arity: number): string[] {
  try {
    const parts = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(parts) && parts.length === arity && parts.every((p) => typeof p === 'string' && p.length < 100)) return parts;
  } catch {
    // fall through
  }
  throw commonErrors.validation(undefined, { errors: [{ path: 'querystring.cursor', message: 'is not a cursor this API issued' }] });
}
