import WebSocket from 'ws';

/** A real WebSocket client for tests and the benchmark: records frames and the close code. */
export interface TestSocket {
  ws: WebSocket;
  frames: any[];
  /** Resolves with the first frame (from the start) matching `pred` that was not taken before. */
  next(pred: (f: any) => boolean, timeoutMs?: number): Promise<any>;
  closed: Promise<{ code: number; reason: string }>;
  send(frame: unknown): void;
  close(): void;
}

export interface ConnectOptions {
  workspaceId: string;
  lastEventId?: string;
  cookie?: string;
  token?: string;
  /** The Origin header; `null` sends none. Defaults to the server's own URL. */
  origin?: string | null;
  /** WebSocket subprotocols offered (a customer: ['rapport-customer', credential]). */
  protocols?: string[];
}

export function realtimeUrl(baseUrl: string, workspaceId: string, lastEventId?: string): string {
  const u = new URL('/api/v1/realtime', baseUrl.replace(/^http/, 'ws'));
  u.searchParams.set('workspaceId', workspaceId);
  if (lastEventId !== undefined) u.searchParams.set('lastEventId', lastEventId);
  return u.toString();
}

/** Opens a socket; resolves once open (rejects with the HTTP status if the upgrade is refused). */
export function openSocket(baseUrl: string, opts: ConnectOptions): Promise<TestSocket> {
  const headers: Record<string, string> = {};
  if (opts.cookie) headers.cookie = opts.cookie;
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  const origin = opts.origin === undefined ? baseUrl : opts.origin;
  const ws = new WebSocket(realtimeUrl(baseUrl, opts.workspaceId, opts.lastEventId), opts.protocols ?? [], { headers, ...(origin === null ? {} : { origin }) });
  const frames: any[] = [];
  const taken = new Set<number>();
  const waiters: Array<() => void> = [];
  ws.on('message', (data) => {
    frames.push(JSON.parse(String(data)));
    for (const w of waiters.splice(0)) w();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: String(reason) })));
  const socket: TestSocket = {
    ws,
    frames,
    closed,
    send: (frame) => ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame)),
    close: () => ws.close(),
    next: (pred, timeoutMs = 10_000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no matching frame within ${timeoutMs} ms; got ${JSON.stringify(frames).slice(0, 2000)}`)), timeoutMs);
        const look = () => {
          const i = frames.findIndex((f, idx) => !taken.has(idx) && pred(f));
          if (i >= 0) {
            taken.add(i);
            clearTimeout(timer);
            resolve(frames[i]);
          } else waiters.push(look);
        };
        look();
      }),
  };
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(socket));
    ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { status: res.statusCode })));
    ws.once('error', reject);
  });
}
