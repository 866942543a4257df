import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { api, ApiError, setCsrfToken, setUnauthorizedHandler, withQuery } from '../../web/src/api/client.js';
import { RealtimeClient, type RealtimeHandlers } from '../../web/src/realtime/socket.js';
import { TypingThrottle } from '../../web/src/realtime/typing.js';
import { emailDocument } from '../../web/src/screens/conversation/MessageBody.js';
import { formatCount, viewCount, viewFilters } from '../../web/src/screens/inbox/views.js';

/** The web app's pieces that carry rules of their own, tested without a browser. */

class FakeSocket {
  static all: FakeSocket[] = [];
  readyState = 0;
  sent: unknown[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((m: { data: unknown }) => void) | null = null;
  onclose: ((e: { code: number }) => void) | null = null;
  onerror: (() => void) | null = null;
  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }
  send(data: string) {
    this.sent.push(JSON.parse(data));
  }
  close() {
    this.readyState = 3;
  }
  open() {
    this.readyState = 1;
    this.onopen?.();
  }
  receive(frame: unknown) {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }
  drop(code = 1006) {
    this.readyState = 3;
    this.onclose?.({ code });
  }
}

function handlers(): RealtimeHandlers & { events: string[]; states: string[]; resets: number; fatal: number[]; presence: unknown[] } {
  const h = {
    events: [] as string[],
    states: [] as string[],
    resets: 0,
    fatal: [] as number[],
    presence: [] as unknown[],
    onEvent: (e: { id: string }) => h.events.push(e.id),
    onReset: () => void h.resets++,
    onPresence: (id: string, viewers: unknown[]) => h.presence.push([id, viewers]),
    onState: (s: string) => h.states.push(s),
    onFatal: (code: number) => h.fatal.push(code),
  };
  return h as never;
}

describe('the realtime client', () => {
  beforeEach(() => {
    FakeSocket.all = [];
    vi.useFakeTimers();
  });
  afterEach(() => vi.useRealTimers());

  const start = (h = handlers()) => {
    const client = new RealtimeClient('ws-1', h, (url) => new FakeSocket(url) as unknown as WebSocket, 'ws://rapport.test');
    client.start();
    return { client, h };
  };

  it('resumes after a dropped socket from the last event id it saw, announcing the open conversation again', async () => {
    const { client, h } = start();
    const first = FakeSocket.all[0];
    expect(first.url).toBe('ws://rapport.test/api/v1/realtime?workspaceId=ws-1');
    first.open();
    first.receive({ type: 'ready', lastEventId: '10' });
    client.view('conv-1');
    first.receive({ type: 'event', event: { id: '11', type: 'message.created', conversationId: 'conv-1', actor: { type: 'user', id: null }, data: {}, createdAt: '' } });
    first.receive({ type: 'event', event: { id: '12', type: 'conversation.assigned', conversationId: 'conv-1', actor: { type: 'user', id: null }, data: {}, createdAt: '' } });
    expect(h.events).toEqual(['11', '12']);
    expect(h.states).toEqual(['connecting', 'live']);

    first.drop();
    expect(h.states.at(-1)).toBe('offline');
    await vi.advanceTimersByTimeAsync(1000);
    const second = FakeSocket.all[1];
    expect(second.url).toBe('ws://rapport.test/api/v1/realtime?workspaceId=ws-1&lastEventId=12');
    second.open();
    expect(second.sent).toContainEqual({ type: 'view', conversationId: 'conv-1' });
    client.stop();
  });

  it('backs off between failed attempts, up to 15 s', async () => {
    start();
    const gaps: number[] = [];
    let last = Date.now();
    for (let i = 0; i < 8; i++) {
      FakeSocket.all.at(-1)!.drop();
      const before = FakeSocket.all.length;
      while (FakeSocket.all.length === before) await vi.advanceTimersByTimeAsync(50);
      gaps.push(Date.now() - last);
      last = Date.now();
    }
    expect(gaps[1]).toBeGreaterThan(gaps[0]);
    expect(gaps[3]).toBeGreaterThan(gaps[1]);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(15_000 * 1.25 + 50);
    expect(gaps.at(-1)).toBeGreaterThan(10_000);
  });

  it('stops for good when the server says the session ended (4401)', async () => {
    const { h } = start();
    FakeSocket.all[0].open();
    FakeSocket.all[0].drop(4401);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(FakeSocket.all).toHaveLength(1);
    expect(h.fatal).toEqual([4401]);
  });

  it('passes presence and reset on, and ignores frames that are not JSON', () => {
    const { h } = start();
    const s = FakeSocket.all[0];
    s.open();
    s.onmessage?.({ data: 'not json' });
    s.receive({ type: 'presence', conversationId: 'c', viewers: [{ userId: 'u', name: 'Sam', typing: true }] });
    s.receive({ type: 'reset' });
    expect(h.presence).toEqual([['c', [{ userId: 'u', name: 'Sam', typing: true }]]]);
    expect(h.resets).toBe(1);
  });
});

describe('the API client', () => {
  const calls: { url: string; init: RequestInit }[] = [];
  let reply: () => Response;
  beforeEach(() => {
    calls.length = 0;
    vi.stubGlobal('fetch', async (url: string, init: RequestInit) => {
      calls.push({ url, init });
      return reply();
    });
  });
  afterEach(() => {
    vi.unstubAllGlobals();
    setCsrfToken(null);
    setUnauthorizedHandler(null);
  });

  it('sends the session’s CSRF token on writes only, and the cookie with every call', async () => {
    reply = () => new Response(JSON.stringify({ ok: true }), { status: 200 });
    setCsrfToken('csrf-123');
    await api('/workspaces/w/conversations', { query: { status: ['open', 'pending'], q: 'refund', cursor: undefined } });
    await api('/workspaces/w/conversations/c', { method: 'PATCH', body: { status: 'resolved' } });
    expect(calls[0].url).toBe('/api/v1/workspaces/w/conversations?status=open&status=pending&q=refund');
    expect((calls[0].init.headers as Record<string, string>)['x-csrf-token']).toBeUndefined();
    expect((calls[1].init.headers as Record<string, string>)['x-csrf-token']).toBe('csrf-123');
    expect(calls.every((c) => c.init.credentials === 'same-origin')).toBe(true);
  });

  it('turns problem+json into an ApiError with the stable code, and a 401 into "session ended"', async () => {
    reply = () =>
      new Response(
        JSON.stringify({ type: '/problems/x', title: 'Invalid', status: 422, code: 'validation.failed', detail: 'Check the fields', errors: [{ path: 'body.tags', message: 'too many' }] }),
        { status: 422, headers: { 'content-type': 'application/problem+json' } },
      );
    const error = (await api('/x', { method: 'POST', body: {} }).catch((e: unknown) => e)) as ApiError;
    expect(error).toBeInstanceOf(ApiError);
    expect([error.status, error.code, error.message, error.fieldErrors[0].path]).toEqual([422, 'validation.failed', 'Check the fields', 'body.tags']);

    const ended: string[] = [];
    setUnauthorizedHandler((e) => ended.push(e.code));
    reply = () => new Response(JSON.stringify({ status: 401, code: 'auth.session_expired', title: 'Session expired' }), { status: 401 });
    await api('/workspaces').catch(() => undefined);
    await api('/auth/session', { quiet401: true }).catch(() => undefined);
    expect(ended).toEqual(['auth.session_expired']);
  });

  it('builds query strings without empty values', () => {
    expect(withQuery('/p', { a: '', b: null, c: undefined, d: 0, e: false })).toBe('/p?d=0&e=false');
  });
});

describe('inbox views', () => {
  it('map to the list API’s filters and to the server’s counts', () => {
    expect(viewFilters('mine')).toEqual({ assignee: 'me', status: ['open'] });
    expect(viewFilters('unassigned')).toEqual({ assignee: 'none', status: ['open'] });
    expect(viewFilters('team:t1')).toEqual({ team: 't1', status: ['open'] });
    expect(viewFilters('pending')).toEqual({ status: ['pending'] });
    expect(viewFilters('tag:vip')).toEqual({ tag: 'vip', status: ['open', 'pending'] });
    expect(viewFilters('priority:high')).toEqual({ priority: 'high', status: ['open', 'pending'] });
    const counts = {
      status: null,
      mine: 3,
      unassigned: 10_000,
      open: 20,
      pending: 1,
      snoozed: 0,
      resolved: 5,
      closed: 0,
      byTeam: { t1: 7 },
      byPriority: { high: 4 },
      byTag: { vip: 2 },
      cap: 10_000,
      capped: true,
      cappedKeys: ['unassigned'],
    };
    expect(viewCount('team:t1', counts)).toBe(7);
    expect(viewCount('priority:high', counts)).toBe(4);
    expect(viewCount('tag:vip', counts)).toBe(2);
    expect(viewCount('tag:gone', counts)).toBe(0);
    expect(formatCount(viewCount('unassigned', counts), counts)).toBe('10k+');
    expect(formatCount(viewCount('mine', counts), counts)).toBe('3');
  });
});

describe('an email’s HTML document', () => {
  it('carries its own CSP: no script, no forms, remote images only after "show images"', () => {
    const blocked = emailDocument('<img src="https://t.example/p.gif">', false);
    const csp = /content="([^"]+)"/.exec(blocked)![1];
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'none'");
    expect(csp).toContain("form-action 'none'");
    expect(csp).toMatch(/img-src data: cid:;/);
    expect(emailDocument('x', true)).toMatch(/img-src data: cid: https: http:;/);
  });
});

describe('the typing reporter', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('re-sends typing every 3 s while the agent keeps typing (the server forgets it after 6 s), then false once when idle', () => {
    const sent: boolean[] = [];
    const throttle = new TypingThrottle((t) => sent.push(t));
    // Twelve seconds of steady typing, a key every 500 ms.
    for (let ms = 0; ms < 12_000; ms += 500) {
      throttle.input();
      vi.advanceTimersByTime(500);
    }
    expect(sent).toEqual([true, true, true, true]);
    // (At 0, 3, 6 and 9 s: no gap reaches the server's 6 s lifetime.) The last key was at 11.5 s.
    vi.advanceTimersByTime(3499);
    expect(sent).toHaveLength(4);
    vi.advanceTimersByTime(1);
    expect(sent).toEqual([true, true, true, true, false]);
    vi.advanceTimersByTime(60_000);
    expect(sent).toHaveLength(5);
  });

  it('says false at once on send, and nothing when it never said true', () => {
    const sent: boolean[] = [];
    const throttle = new TypingThrottle((t) => sent.push(t));
    throttle.stop();
    expect(sent).toEqual([]);
    throttle.input();
    throttle.input();
    throttle.stop();
    expect(sent).toEqual([true, false]);
    throttle.input();
    expect(sent).toEqual([true, false, true]);
  });
});
