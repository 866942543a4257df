/**
 * The realtime connection: one WebSocket per signed-in tab and workspace. It resumes from the last
 * event id it saw after a dropped socket (so no event is missed), reconnects with capped, jittered
 * backoff, keeps the connection warm with pings, and re-announces which conversation this tab views.
 */

import type { EventJson } from '../../../src/events/events.types.js';
import type { Conversation } from '../api/types.js';

/** A domain event as the socket delivers it: its conversation besides the timeline's fields. */
export type RealtimeEvent = EventJson & { conversationId: string | null };

export interface Viewer {
  userId: string;
  name: string;
  typing: boolean;
}

export type ServerFrame =
  | { type: 'ready'; lastEventId?: string | null }
  | { type: 'event'; event: RealtimeEvent; conversation?: Conversation }
  | { type: 'presence'; conversationId: string; viewers: Viewer[] }
  | { type: 'reset' }
  | { type: 'pong' };

/** `limited`: the server refused this socket because too many are open (close 1013); it retries later. */
export type ConnectionState = 'connecting' | 'live' | 'offline' | 'limited';

export interface RealtimeHandlers {
  /** `conversation`: on an agent's socket, the event's conversation as the API shows it (to patch caches from). */
  onEvent(event: RealtimeEvent, conversation?: Conversation): void;
  onReset(): void;
  onPresence(conversationId: string, viewers: Viewer[]): void;
  onState(state: ConnectionState): void;
  /** The server refused for good (4401: the session ended; 4404: no longer a member). */
  onFatal?(code: number): void;
}

/** Close codes after which retrying cannot help (see the server's realtime.protocol.ts). */
const FATAL_CLOSE = new Set([4401, 4403, 4404]);
/** Too many sockets for this person or address (server: realtime.protocol.ts): retry, but slowly. */
const TRY_AGAIN_LATER = 1013;

type SocketFactory = (url: string) => WebSocket;
const OPEN = 1; // WebSocket.OPEN, spelled out so the client also runs where WebSocket is not global (tests)

export class RealtimeClient {
  private socket: WebSocket | null = null;
  private lastEventId: string | null = null;
  private viewing: string | null = null;
  private attempt = 0;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private pingTimer: ReturnType<typeof setInterval> | null = null;
  private closed = false;

  constructor(
    private readonly workspaceId: string,
    private readonly handlers: RealtimeHandlers,
    private readonly createSocket: SocketFactory = (url) => new WebSocket(url),
    private readonly baseUrl: string = `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}`,
  ) {}

  start(): void {
    this.closed = false;
    this.connect();
  }

  stop(): void {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.socket?.close(1000, 'bye');
    this.socket = null;
  }

  /** Which conversation this tab shows (null: none); the server tells the others. */
  view(conversationId: string | null): void {
    this.viewing = conversationId;
    this.send({ type: 'view', conversationId });
  }

  typing(conversationId: string, typing: boolean): void {
    this.send({ type: 'typing', conversationId, typing });
  }

  get url(): string {
    const params = new URLSearchParams({ workspaceId: this.workspaceId });
    if (this.lastEventId) params.set('lastEventId', this.lastEventId);
    return `${this.baseUrl}/api/v1/realtime?${params.toString()}`;
  }

  private send(frame: unknown): void {
    if (this.socket?.readyState === OPEN) this.socket.send(JSON.stringify(frame));
  }

  private connect(): void {
    if (this.closed) return;
    this.handlers.onState('connecting');
    let socket: WebSocket;
    try {
      socket = this.createSocket(this.url);
    } catch {
      this.scheduleRetry();
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      this.attempt = 0;
      if (this.viewing) this.send({ type: 'view', conversationId: this.viewing });
      if (this.pingTimer) clearInterval(this.pingTimer);
      this.pingTimer = setInterval(() => this.send({ type: 'ping' }), 25_000);
    };
    socket.onmessage = (message) => this.receive(message.data);
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (this.pingTimer) clearInterval(this.pingTimer);
      this.handlers.onState(event.code === TRY_AGAIN_LATER ? 'limited' : 'offline');
      if (event.code === TRY_AGAIN_LATER) this.attempt = Math.max(this.attempt, 5);
      if (FATAL_CLOSE.has(event.code)) {
        this.closed = true;
        this.handlers.onFatal?.(event.code);
        return;
      }
      this.scheduleRetry();
    };
    socket.onerror = () => {
      // onclose follows and schedules the retry.
    };
  }

  private receive(raw: unknown): void {
    if (typeof raw !== 'string') return;
    let frame: ServerFrame;
    try {
      frame = JSON.parse(raw) as ServerFrame;
    } catch {
      return;
    }
    switch (frame.type) {
      case 'ready':
        if (frame.lastEventId) this.lastEventId = String(frame.lastEventId);
        this.handlers.onState('live');
        break;
      case 'event':
        if (frame.event?.id) this.lastEventId = String(frame.event.id);
        this.handlers.onEvent(frame.event, frame.conversation);
        break;
      case 'presence':
        this.handlers.onPresence(frame.conversationId, Array.isArray(frame.viewers) ? frame.viewers : []);
        break;
      case 'reset':
        this.handlers.onReset();
        break;
      default:
        break;
    }
  }

  private scheduleRetry(): void {
    if (this.closed) return;
    // 0.5 s, 1 s, 2 s ... capped at 15 s, with jitter so a restarted server is not stampeded.
    const delay = Math.min(15_000, 500 * 2 ** this.attempt) * (0.75 + Math.random() * 0.5);
    this.attempt = Math.min(this.attempt + 1, 10);
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }
}
