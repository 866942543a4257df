/**
 * The one way the web app talks to the Rapport API: same-origin fetch with the session cookie, the
 * session's CSRF token on writes (double submit, see src/http/auth.ts), and problem+json errors turned
 * into ApiError with the server's stable `code`.
 */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fieldErrors: { path: string; message: string }[] = [],
    /** The whole problem body: some codes carry more (conversations.reply_collision: the newer `messages`). */
    readonly problem: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

let csrfToken: string | null = null;
let onUnauthorized: ((error: ApiError) => void) | null = null;

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

/** Called once by the session provider: a 401 anywhere means the session ended. */
export function setUnauthorizedHandler(handler: ((error: ApiError) => void) | null): void {
  onUnauthorized = handler;
}

type Query = Record<string, string | number | boolean | string[] | undefined | null>;

export function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === '') continue;
    if (Array.isArray(value)) for (const v of value) params.append(key, v);
    else params.append(key, String(value));
  }
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  body?: unknown;
  /** Bytes sent as they are (an upload), with the Blob's own Content-Type; instead of a JSON body. */
  raw?: Blob;
  query?: Query;
  signal?: AbortSignal;
  /** Do not treat a 401 as "the session expired" (the login and session probes). */
  quiet401?: boolean;
}

export async function api<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const method = opts.method ?? 'GET';
  const headers: Record<string, string> = { accept: 'application/json' };
  if (opts.raw !== undefined) headers['content-type'] = opts.raw.type || 'application/octet-stream';
  else if (opts.body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  let response: Response;
  try {
    response = await fetch(withQuery(`/api/v1${path}`, opts.query), {
      method,
      headers,
      credentials: 'same-origin',
      body: opts.raw ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body)),
      signal: opts.signal,
    });
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error;
    throw new ApiError(0, 'network.unreachable', 'Rapport cannot be reached. Check your connection and try again.');
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let data: unknown = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    const problem = (data ?? {}) as { code?: string; title?: string; detail?: string; errors?: { path: string; message: string }[] };
    const error = new ApiError(
      response.status,
      problem.code ?? `http.${response.status}`,
      problem.detail ?? problem.title ?? `The request failed (${response.status}).`,
      problem.errors ?? [],
      problem as Record<string, unknown>,
    );
    // A wrong "confirm with your password" is a 401 too, but the session is fine.
    if (response.status === 401 && !opts.quiet401 && error.code !== 'auth.reauthentication_required') onUnauthorized?.(error);
    throw error;
  }
  return data as T;
}

/** True when the server does not have this endpoint (yet): the UI hides the feature instead of failing. */
export function isMissingEndpoint(error: unknown): boolean {
  return error instanceof ApiError && (error.status === 404 || error.status === 405) && !error.code.startsWith('conversations.') && !error.code.startsWith('customers.');
}
