/**
 * PostgreSQL cannot serve right now (shutting down, starting, out of memory or disk, read-only, the
 * connection gone): the same request may succeed later. The API answers 503 for these, the SMTP
 * server a 4xx, and the IMAP poller retries the message on its next pass instead of giving up on it.
 */
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53100', '53200', '53300', '25006', '08000', '08001', '08003', '08006']);
const UNAVAILABLE_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT']);

export function isDatabaseUnavailable(error: unknown): boolean {
  const e = error as { code?: string; message?: string } | null;
  if (!e) return false;
  if (e.code && (UNAVAILABLE_SQLSTATES.has(e.code) || UNAVAILABLE_ERRNOS.has(e.code))) return true;
  return /Connection terminated|timeout exceeded when trying to connect/i.test(e.message ?? '');
}
