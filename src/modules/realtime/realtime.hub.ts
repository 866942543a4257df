import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { WebSocket } from 'ws';
import type { Pool } from '../../db/pool.js';
import { withSystem, withWorkspace } from '../../db/tenancy.js';
import { eventFor, recipientOf, type Audience } from '../../events/audiences.js';
import type { EventRow } from '../../events/outbox.js';
import type { Logger } from '../../lib/logger.js';
import { KeyedCounter } from '../../http/connection-limits.js';
import { atLeast, type Role } from '../auth/roles.js';
import type { ConversationView } from '../conversations/conversations.schemas.js';
import { conversationCustomers, conversationIdsOfCustomer, conversationViewsByIds } from '../conversations/conversations.service.js';
import { existingCustomers } from '../customers/customers.service.js';
import { Presence, type PresenceMessage } from './presence.js';
import { preFrame, sendPreFramed, type FanOutFrame } from './realtime.frames.js';
import { CloseCodes, MAX_CLIENT_FRAME_BYTES, frameErrors, parseClientFrame, type ClientFrame, type EventPayload, type ServerFrame, type Viewer } from './realtime.protocol.js';
import { conversationExists } from '../conversations/conversations.service.js';
import { eventIdsAfter, eventsByIds, maxEventId, workspaceEventsBetween } from '../../events/reads.js';
import { realtimeRepository as repo } from './realtime.repository.js';

export interface HubOptions {
  /** Longest wait for a lower event id that has not committed yet before it is taken as rolled back. */
  gapTimeoutMs?: number;
  /** Ping every socket this often; one that did not answer the previous ping is dropped. */
  heartbeatMs?: number;
  /** Most events replayed on resume; more than this and the client gets `reset` and refetches. */
  replayLimit?: number;
  /** Frames a client may send: a token bucket of `burst` refilled at `perSecond`. */
  rate?: { perSecond: number; burst: number };
  /** A socket whose unsent data grows past this is too slow: closed (4408) so it reconnects and resumes. */
  maxBufferedBytes?: number;
  presence?: { refreshMs?: number; ttlMs?: number; typingMs?: number; tickMs?: number };
}

/**
 * Which events a socket receives (events/audiences.ts): agents and up get everything; client viewers
 * no notes; a customer only the public events of their own conversations.
 */
export type SocketAudience = { kind: 'agents' } | { kind: 'clients' } | { kind: 'customer'; customerId: string };

export function audienceOfRole(role: Role): SocketAudience {
  return atLeast(role, 'agent') ? { kind: 'agents' } : { kind: 'clients' };
}

/**
 * An event row with the customer of its conversation, for the customer audience: null for a
 * workspace event, absent when not looked up (its workspace had no customer socket when it was read).
 */
export type AudienceEventRow = EventRow & { customer_id?: string | null };

/** Who a socket belongs to, settled before the upgrade (see realtime.routes.ts). */
export interface Principal {
  /** What the per-principal socket limit counts: `user:<id>` (every session of a person), `token:<id>` or `customer:<id>`. */
  key: string;
  workspaceId: string;
  /** The member's or token's role; null for a customer. */
  role: Role | null;
  audience: SocketAudience;
  userId: string | null;
  name: string;
  /** Re-checked at every heartbeat: a revoked session, token or membership closes the socket. */
  stillValid(): Promise<'ok' | 'unauthenticated' | 'not_found' | 'changed'>;
}

const EVENTS_CHANNEL = 'rapport_events';
const PRESENCE_CHANNEL = 'rapport_presence';
const CATCH_UP_LIMIT = 10_000;

export function toEventPayload(row: EventRow): EventPayload {
  return {
    id: String(row.id),
    type: row.type,
    conversationId: row.conversation_id,
    actor: { type: row.actor_type, id: row.actor_id },
    data: row.data,
    createdAt: row.created_at.toISOString(),
  };
}

/** Sockets one principal and one address may hold on this instance (M1); more are closed 1013. */
export interface SocketLimits {
  /** The peer's address key (`clientKey`: IPv4, or an IPv6 /64). */
  address: string;
  perPrincipal: number;
  perAddress: number;
}

/** A place held for one socket from its handshake on; released once, when the socket ends or fails. */
export interface SocketPlace {
  release(): void;
}

class Connection {
  readonly id = randomUUID();
  place: SocketPlace | null = null;
  alive = true;
  replaying = true;
  buffered: Array<{ id: number; frame: FanOutFrame }> = [];
  /** Live events at or below this id were already delivered to the client by someone (its resume cursor). */
  floor = 0;
  tokens: number;
  lastRefill = performance.now();
  knownConversations = new Set<string>();
  queue: Promise<void> = Promise.resolve();
  closed = false;

  constructor(
    readonly socket: WebSocket,
    readonly principal: Principal,
    private readonly hub: RealtimeHub,
    burst: number,
  ) {
    this.tokens = burst;
  }

  /** Sends a frame; a Buffer is an already-encoded text frame shared by every socket of a fan-out. */
  send(frame: ServerFrame | string | Buffer): void {
    if (this.closed) return;
    if (this.socket.bufferedAmount > this.hub.maxBufferedBytes) {
      this.close(CloseCodes.slowConsumer, 'slow consumer');
      return;
    }
    if (Buffer.isBuffer(frame)) this.socket.send(frame, { binary: false });
    else this.socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  sendEvent(id: number, frame: FanOutFrame): void {
    if (id <= this.floor) return;
    if (this.replaying) this.buffered.push({ id, frame });
    else this.sendFramed(frame);
  }

  /** A fan-out frame: the same pre-framed bytes for every socket (realtime.frames.ts). */
  sendFramed(frame: FanOutFrame): void {
    if (this.closed) return;
    if (this.socket.bufferedAmount > this.hub.maxBufferedBytes) {
      this.close(CloseCodes.slowConsumer, 'slow consumer');
      return;
    }
    sendPreFramed(this.socket, frame);
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.socket.close(code, reason);
    } catch {
      this.socket.terminate();
    }
    // A peer that does not complete the closing handshake is cut off.
    setTimeout(() => this.socket.terminate(), 2000).unref();
  }
}

interface Pending {
  workspaceId: string;
  fetched: boolean;
  row: AudienceEventRow | null;
  /** The event's conversation as the API shows it to agents, read once per batch (see flush). */
  conversation?: ConversationView | null;
}

/**
 * One per instance. Holds this instance's sockets by workspace and feeds them every committed domain
 * event of their workspace, in event-id order, plus presence.
 *
 * Fan-out: one dedicated connection LISTENs on `rapport_events` (the events insert trigger NOTIFYs at
 * commit, on every instance) and `rapport_presence`. Each event row is fetched once per instance, in
 * batches, only when a local socket of its workspace is connected, serialised once and written to each
 * socket.
 *
 * Ordering and resume: ids are taken at insert but notified at commit, so id 11 may arrive before 10.
 * The hub delivers in id order and keeps a watermark W (every id <= W is delivered or known not to
 * exist): a gap waits for the lower id at most `gapTimeoutMs` (then it is taken as rolled back). So the
 * highest id a client has seen is a safe resume cursor, and a resume replays (cursor, W] from the
 * table before going live with ids > W: nothing missed, nothing twice.
 */
export class RealtimeHub {
  readonly instanceId = randomUUID();
  readonly maxBufferedBytes: number;
  private readonly gapTimeoutMs: number;
  private readonly heartbeatMs: number;
  private readonly replayLimit: number;
  private readonly rate: { perSecond: number; burst: number };
  readonly presence: Presence;
  private readonly byWorkspace = new Map<string, Set<Connection>>();
  private readonly connections = new Set<Connection>();
  private readonly perPrincipal = new KeyedCounter();
  private readonly perAddress = new KeyedCounter();

  private watermark = 0;
  private readonly pending = new Map<number, Pending>();
  private readonly toFetch = new Set<number>();
  private readonly skipped = new Set<number>();
  private gapTimer: NodeJS.Timeout | null = null;
  private gapAt = -1;
  private flushing = false;
  private flushAgain = false;
  private flushScheduled = false;

  private listener: pg.PoolClient | null = null;
  private initialized = false;
  private started: Promise<void> | null = null;
  private stopped = false;
  private reconnectDelay = 250;
  private timers: NodeJS.Timeout[] = [];
  private readonly presenceOut = new Map<string, PresenceMessage>();
  private presenceSending = false;

  constructor(
    private readonly pool: Pool,
    private readonly log: Logger,
    opts: HubOptions = {},
  ) {
    this.gapTimeoutMs = opts.gapTimeoutMs ?? 150;
    this.heartbeatMs = opts.heartbeatMs ?? 30_000;
    this.replayLimit = opts.replayLimit ?? 1000;
    this.rate = opts.rate ?? { perSecond: 20, burst: 40 };
    this.maxBufferedBytes = opts.maxBufferedBytes ?? 4 * 1024 * 1024;
    this.presence = new Presence({
      instanceId: this.instanceId,
      refreshMs: opts.presence?.refreshMs,
      ttlMs: opts.presence?.ttlMs,
      typingMs: opts.presence?.typingMs,
      publish: (m) => this.publishPresence(m),
      onChange: (ws, conv, viewers) => this.broadcastPresence(ws, conv, viewers),
    });
    this.presenceTickMs = opts.presence?.tickMs ?? 1000;
  }
  private readonly presenceTickMs: number;

  /** Starts listening; resolves once the watermark is known, so every later commit is heard. */
  start(): Promise<void> {
    this.started ??= (async () => {
      await this.connectListener();
      this.timers.push(setInterval(() => this.heartbeat(), this.heartbeatMs));
      this.timers.push(setInterval(() => this.presence.tick(), this.presenceTickMs));
      for (const t of this.timers) t.unref();
    })();
    return this.started;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    if (this.gapTimer) clearTimeout(this.gapTimer);
    for (const c of this.connections) c.close(CloseCodes.goingAway, 'server shutting down');
    const listener = this.listener;
    this.listener = null;
    // Destroyed, never returned to the pool: its session is in system context (see connectListener).
    if (listener) listener.release(true);
  }

  /** For tests and the benchmark: the ids delivered so far (every id <= this is settled). */
  get lastEventId(): string {
    return String(this.watermark);
  }

  get size(): number {
    return this.connections.size;
  }

  /** For tests: events read from the table but held back because a lower id has not committed yet. */
  get heldEvents(): number {
    let n = 0;
    for (const [id, p] of this.pending) if (id > this.watermark && p.fetched && p.row) n++;
    return n;
  }

  /** Simulates losing the LISTEN connection (tests): it reconnects and catches up from the watermark. */
  dropListenerForTest(): void {
    this.listener?.emit('error', new Error('dropped by a test'));
  }

  // ---- the LISTEN connection ------------------------------------------------------------------

  private async connectListener(): Promise<void> {
    const client = await this.pool.connect();
    let lost = false;
    const onLost = (error?: Error) => {
      if (lost || this.stopped) return;
      lost = true;
      if (this.listener === client) this.listener = null;
      client.release(true);
      this.log.warn({ err: error?.message }, 'realtime listener connection lost; reconnecting');
      this.scheduleReconnect();
    };
    client.on('error', onLost);
    client.on('end', () => onLost());
    client.on('notification', (n) => {
      if (!n.payload) return;
      if (n.channel === EVENTS_CHANNEL) this.onEventNotification(n.payload);
      else if (n.channel === PRESENCE_CHANNEL) this.onPresenceNotification(n.payload);
    });
    // This connection is dedicated and destroyed when done (never back in the pool), so it may hold a
    // session-wide system context: it reads events of every workspace this instance serves, in one
    // round trip per batch instead of a pooled transaction's four.
    await client.query("select set_config('app.system', 'on', false)");
    await client.query(`listen ${EVENTS_CHANNEL}`);
    await client.query(`listen ${PRESENCE_CHANNEL}`);
    this.listener = client;
    if (!this.initialized) {
      this.initialized = true;
      // Everything committed before LISTEN is history (replayed on demand); everything after is heard.
      this.watermark = Number(await withSystem(this.pool, (tx) => maxEventId(tx)));
    } else {
      await this.catchUp();
    }
    this.reconnectDelay = 250;
  }

  private scheduleReconnect(): void {
    const delay = this.reconnectDelay;
    this.reconnectDelay = Math.min(this.reconnectDelay * 2, 5000);
    setTimeout(() => {
      if (this.stopped) return;
      this.connectListener().catch((error) => {
        this.log.warn({ err: (error as Error).message }, 'realtime listener reconnect failed');
        this.scheduleReconnect();
      });
    }, delay).unref();
  }

  /** After a lost LISTEN: the commits we did not hear of, read from the table. */
  private async catchUp(): Promise<void> {
    const rows = await withSystem(this.pool, (tx) => eventIdsAfter(tx, String(this.watermark), CATCH_UP_LIMIT + 1));
    if (rows.length > CATCH_UP_LIMIT) {
      // Too far behind to replay: every client refetches, and we start again from the newest id.
      this.log.warn('realtime listener too far behind; clients reset');
      this.pending.clear();
      this.toFetch.clear();
      this.watermark = Number(await withSystem(this.pool, (tx) => maxEventId(tx)));
      for (const c of this.connections) {
        c.send({ type: 'reset' });
        c.send({ type: 'ready', lastEventId: String(this.watermark) });
      }
      return;
    }
    for (const r of rows) this.noteEvent(Number(r.id), r.workspace_id);
    this.scheduleFlush();
  }

  private onEventNotification(payload: string): void {
    let message: { id?: unknown; workspaceId?: unknown };
    try {
      message = JSON.parse(payload);
    } catch {
      return;
    }
    const id = Number(message.id);
    if (!Number.isSafeInteger(id) || typeof message.workspaceId !== 'string') return;
    this.noteEvent(id, message.workspaceId);
    this.scheduleFlush();
  }

  private noteEvent(id: number, workspaceId: string): void {
    if (id <= this.watermark) {
      // Only an id we gave up on (a commit slower than gapTimeoutMs) is news; anything else is a repeat.
      if (!this.skipped.delete(id)) return;
      this.log.warn({ id }, 'event committed after its gap was skipped; delivered late');
    } else if (this.pending.has(id)) return;
    const wanted = this.byWorkspace.has(workspaceId);
    this.pending.set(id, { workspaceId, fetched: !wanted, row: null });
    if (wanted) this.toFetch.add(id);
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // One tick of batching: notifications that arrived together are fetched with one query.
    setImmediate(() => {
      this.flushScheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.flushing) {
      this.flushAgain = true;
      return;
    }
    this.flushing = true;
    try {
      while (this.toFetch.size > 0) {
        const ids = [...this.toFetch];
        this.toFetch.clear();
        let rows: AudienceEventRow[];
        try {
          const reader = this.listener;
          rows = reader ? await eventsByIds(reader, ids.map(String)) : await withSystem(this.pool, (tx) => eventsByIds(tx, ids.map(String)));
          await this.addCustomers(rows);
        } catch (error) {
          this.log.warn({ err: (error as Error).message }, 'realtime could not read events; retrying');
          for (const id of ids) this.toFetch.add(id);
          setTimeout(() => this.scheduleFlush(), 500).unref();
          return;
        }
        const conversations = await this.conversationsOf(rows);
        const byId = new Map(rows.map((r) => [Number(r.id), r]));
        for (const id of ids) {
          const p = this.pending.get(id);
          if (!p) continue;
          p.fetched = true;
          p.row = byId.get(id) ?? null;
          if (p.row?.conversation_id) p.conversation = conversations.get(`${p.row.workspace_id}:${p.row.conversation_id}`) ?? null;
        }
      }
      this.advance();
    } finally {
      this.flushing = false;
      if (this.flushAgain) {
        this.flushAgain = false;
        this.scheduleFlush();
      }
    }
  }

  /**
   * The conversations of a batch of events, as the API's list and detail show them to agents, read
   * once per instance and batch (one query per workspace), so that every agent tab can patch its
   * cached lists and detail from the event frame instead of each of them refetching (issue 14: 1,000
   * tabs refetching on every event was the refetch storm). Read now, so at least as new as the event;
   * the app keeps whichever copy has the later updatedAt. A failed read only leaves the snapshot out:
   * the app then refetches, as before.
   */
  private async conversationsOf(rows: AudienceEventRow[]): Promise<Map<string, ConversationView>> {
    const byWorkspace = new Map<string, Set<string>>();
    for (const r of rows) {
      if (!r.conversation_id || !this.hasAgents(r.workspace_id)) continue;
      let set = byWorkspace.get(r.workspace_id);
      if (!set) {
        set = new Set();
        byWorkspace.set(r.workspace_id, set);
      }
      set.add(r.conversation_id);
    }
    const out = new Map<string, ConversationView>();
    for (const [ws, ids] of byWorkspace) {
      try {
        const reader = this.listener;
        const views = reader ? await conversationViewsByIds(reader, ws, [...ids]) : await withSystem(this.pool, (tx) => conversationViewsByIds(tx, ws, [...ids]));
        for (const v of views) out.set(`${ws}:${v.id}`, v);
      } catch (error) {
        this.log.warn({ err: (error as Error).message }, 'realtime could not read conversations; events go out without them');
      }
    }
    return out;
  }

  /**
   * Routes each event to its conversation's customer: the customers of the batch's conversations, in
   * one query (conversations service), only for workspaces with a customer socket here; an instance
   * serving agents alone reads nothing more. A customer socket that attaches later has the events
   * still pending read again (attach).
   */
  private async addCustomers(rows: AudienceEventRow[]): Promise<void> {
    const refs = rows.filter((r) => r.conversation_id && this.hasCustomers(r.workspace_id)).map((r) => ({ workspaceId: r.workspace_id, id: r.conversation_id! }));
    for (const r of rows) if (!r.conversation_id) r.customer_id = null;
    if (refs.length === 0) return;
    const reader = this.listener;
    const customers = reader ? await conversationCustomers(reader, refs) : await withSystem(this.pool, (tx) => conversationCustomers(tx, refs));
    for (const r of rows) if (r.conversation_id && this.hasCustomers(r.workspace_id)) r.customer_id = customers.get(`${r.workspace_id}:${r.conversation_id}`) ?? null;
  }

  private hasCustomers(workspaceId: string): boolean {
    const conns = this.byWorkspace.get(workspaceId);
    if (!conns) return false;
    for (const c of conns) if (c.principal.audience.kind === 'customer') return true;
    return false;
  }

  private hasAgents(workspaceId: string): boolean {
    const conns = this.byWorkspace.get(workspaceId);
    if (!conns) return false;
    for (const c of conns) if (c.principal.audience.kind === 'agents') return true;
    return false;
  }

  /** Delivers pending events in id order as far as there is no gap. */
  private advance(): void {
    // Late events (id below the watermark) go out at once.
    for (const [id, p] of this.pending) {
      if (id > this.watermark || !p.fetched) continue;
      this.pending.delete(id);
      if (p.row) this.deliver(id, p.row, p.conversation ?? null);
    }
    for (;;) {
      const next = this.pending.get(this.watermark + 1);
      if (!next || !next.fetched) break;
      this.watermark++;
      this.pending.delete(this.watermark);
      if (next.row) this.deliver(this.watermark, next.row, next.conversation ?? null);
    }
    const gap = this.pending.size > 0 && !this.pending.has(this.watermark + 1);
    if (!gap) {
      if (this.gapTimer) clearTimeout(this.gapTimer);
      this.gapTimer = null;
      return;
    }
    if (this.gapTimer && this.gapAt === this.watermark) return;
    if (this.gapTimer) clearTimeout(this.gapTimer);
    this.gapAt = this.watermark;
    this.gapTimer = setTimeout(() => {
      this.gapTimer = null;
      if (this.gapAt !== this.watermark) return this.advance();
      // The missing ids never committed in time: rolled back, or a very slow transaction (delivered late).
      const above = [...this.pending.keys()].filter((id) => id > this.watermark);
      if (above.length === 0) return;
      const next = Math.min(...above);
      for (let id = this.watermark + 1; id < next; id++) this.skipped.add(id);
      if (this.skipped.size > 10_000) this.skipped.clear();
      this.watermark = next - 1;
      this.advance();
    }, this.gapTimeoutMs);
    this.gapTimer.unref();
  }

  private deliver(id: number, row: AudienceEventRow, conversation: ConversationView | null): void {
    const conns = this.byWorkspace.get(row.workspace_id);
    if (!conns || conns.size === 0) return;
    // Encoded and framed once per audience (agents, clients, the conversation's customer), not per
    // socket; null: that audience does not see this event. Only agents get the conversation snapshot:
    // what a client viewer or a customer may see of a conversation is the API's business, not the
    // event stream's (they refetch, as before).
    const payload = toEventPayload(row);
    // An event for one person (a notification) goes to that member's sockets only, nobody else's.
    const recipient = recipientOf(payload);
    if (recipient !== undefined) {
      let text: FanOutFrame | null = null;
      for (const c of conns) {
        if (c.principal.userId !== recipient || !eventFor(c.principal.audience.kind, payload, c.principal.userId)) continue;
        text ??= preFrame(Buffer.from(JSON.stringify({ type: 'event', event: payload })));
        c.sendEvent(id, text);
      }
      return;
    }
    const texts = new Map<Audience, FanOutFrame | null>();
    for (const c of conns) {
      const a = c.principal.audience;
      if (a.kind === 'customer' && a.customerId !== row.customer_id) continue;
      let text = texts.get(a.kind);
      if (text === undefined) {
        const visible = eventFor(a.kind, payload);
        const frame = a.kind === 'agents' && conversation ? { type: 'event', event: visible, conversation } : { type: 'event', event: visible };
        text = visible ? preFrame(Buffer.from(JSON.stringify(frame))) : null;
        texts.set(a.kind, text);
      }
      if (text) c.sendEvent(id, text);
    }
  }

  // ---- sockets --------------------------------------------------------------------------------

  /**
   * Takes over an upgraded socket whose principal is settled: replays from `lastEventId` if given, says
   * `ready`, then streams live. Handlers are attached at once so no early frame is lost.
   */
  attach(socket: WebSocket, principal: Principal, lastEventId: string | undefined, place?: SocketPlace): void {
    if (this.stopped) {
      place?.release();
      socket.close(CloseCodes.goingAway, 'server shutting down');
      return;
    }
    const conn = new Connection(socket, principal, this, this.rate.burst);
    this.connections.add(conn);
    conn.place = place ?? null;
    let set = this.byWorkspace.get(principal.workspaceId);
    if (!set) {
      set = new Set();
      this.byWorkspace.set(principal.workspaceId, set);
    }
    set.add(conn);
    // Events already heard for this workspace but not yet delivered were skipped as unwanted: fetch them.
    for (const [id, p] of this.pending) {
      const customerUnknown = principal.audience.kind === 'customer' && p.row !== null && p.row.customer_id === undefined;
      if (p.workspaceId === principal.workspaceId && p.fetched && (!p.row || customerUnknown) && id > this.watermark) {
        p.fetched = false;
        this.toFetch.add(id);
      }
    }
    if (this.toFetch.size > 0) this.scheduleFlush();

    socket.on('pong', () => {
      conn.alive = true;
    });
    socket.on('message', (data, isBinary) => this.onMessage(conn, data as Buffer | Buffer[] | ArrayBuffer, isBinary));
    socket.on('close', () => this.detach(conn));
    socket.on('error', () => this.detach(conn));

    void this.start()
      .then(() => this.resume(conn, lastEventId))
      .catch((error) => {
        this.log.warn({ err: (error as Error).message }, 'realtime resume failed');
        conn.close(1011, 'resume failed');
      });
  }

  private async resume(conn: Connection, lastEventId: string | undefined): Promise<void> {
    const upTo = this.watermark;
    const from = lastEventId === undefined ? undefined : Number(lastEventId);
    let replayed = 0;
    if (from !== undefined && from < upTo) {
      const a = conn.principal.audience;
      const ws = conn.principal.workspaceId;
      // A customer replays only the events of their own conversations (their ids first, from conversations).
      const rows = await withWorkspace(this.pool, ws, async (tx) =>
        workspaceEventsBetween(tx, ws, String(from), String(upTo), this.replayLimit + 1, a.kind === 'customer' ? await conversationIdsOfCustomer(tx, ws, a.customerId) : undefined),
      );
      if (rows.length > this.replayLimit) conn.send({ type: 'reset' });
      else {
        // The same audience rules as live delivery: a replay shows nothing the live stream would not.
        for (const r of rows) {
          const visible = eventFor(a.kind, toEventPayload(r), conn.principal.userId);
          if (visible) {
            conn.send(JSON.stringify({ type: 'event', event: visible }));
            replayed++;
          }
        }
      }
    }
    if (from !== undefined && from > upTo) conn.floor = from;
    conn.send({ type: 'ready', lastEventId: String(Math.max(upTo, from ?? 0)), replayed });
    conn.replaying = false;
    // `ready` promises everything after its id; what was heard up to it is in the replay (or, for a
    // fresh client, in what it fetches next), so only later events are passed on.
    for (const b of conn.buffered.splice(0)) if (b.id > upTo) conn.sendFramed(b.frame);
  }

  /**
   * Holds a place for one more socket of this principal and address, or says why not. Taken at the
   * start of the handshake, before any look-up: a burst of handshakes (600 at once were measured
   * queueing 280 deep on the database pool) cannot all pass the check before one is counted.
   */
  reserve(principalKey: string, limits: SocketLimits): SocketPlace | { refused: string } {
    if (this.perPrincipal.get(principalKey) >= limits.perPrincipal) return { refused: `too many connections: at most ${limits.perPrincipal} per person or token` };
    if (this.perAddress.get(limits.address) >= limits.perAddress) return { refused: `too many connections: at most ${limits.perAddress} per address` };
    this.perPrincipal.add(principalKey);
    this.perAddress.add(limits.address);
    let held = true;
    return {
      release: () => {
        if (!held) return;
        held = false;
        this.perPrincipal.remove(principalKey);
        this.perAddress.remove(limits.address);
      },
    };
  }

  private detach(conn: Connection): void {
    if (!this.connections.delete(conn)) return;
    conn.closed = true;
    conn.place?.release();
    const set = this.byWorkspace.get(conn.principal.workspaceId);
    set?.delete(conn);
    if (set && set.size === 0) this.byWorkspace.delete(conn.principal.workspaceId);
    this.presence.leave(conn.id);
  }

  private onMessage(conn: Connection, data: Buffer | Buffer[] | ArrayBuffer, isBinary: boolean): void {
    if (conn.closed) return;
    // Flooding (SECURITY C5): a token bucket per connection; an empty bucket closes the connection.
    const now = performance.now();
    conn.tokens = Math.min(this.rate.burst, conn.tokens + ((now - conn.lastRefill) / 1000) * this.rate.perSecond);
    conn.lastRefill = now;
    if (conn.tokens < 1) {
      conn.close(CloseCodes.rateLimited, 'too many frames');
      return;
    }
    conn.tokens -= 1;
    if (isBinary) {
      conn.close(CloseCodes.unsupportedData, 'text frames only');
      return;
    }
    const buffer = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    // ws enforces maxPayload already; this holds even if another module configured the server larger.
    if (buffer.length > MAX_CLIENT_FRAME_BYTES) {
      conn.close(CloseCodes.tooBig, 'frame too large');
      return;
    }
    const parsed = parseClientFrame(buffer.toString('utf8'));
    if (!parsed.ok) {
      if (parsed.reason === 'not_json') {
        conn.close(CloseCodes.invalidPayload, 'frames are JSON');
        return;
      }
      conn.send({ type: 'error', code: frameErrors.badFrame });
      return;
    }
    // Frames of one connection are handled one after another (a `view` check finishes before `typing`).
    conn.queue = conn.queue
      .then(() => this.handle(conn, parsed.frame))
      .catch((error) => {
        this.log.warn({ err: (error as Error).message }, 'realtime frame failed');
        conn.send({ type: 'error', code: 'internal' });
      });
  }

  private async handle(conn: Connection, frame: ClientFrame): Promise<void> {
    if (conn.closed) return;
    const p = conn.principal;
    switch (frame.type) {
      case 'ping':
        return conn.send({ type: 'pong' });
      case 'view': {
        if (!p.userId) return conn.send({ type: 'error', code: frameErrors.needsUser });
        // Presence is agents' business: who of them is on which conversation is not shown to clients.
        if (p.audience.kind !== 'agents') return conn.send({ type: 'error', code: frameErrors.forbidden });
        const conversationId = frame.conversationId?.toLowerCase() ?? null;
        if (conversationId && !(await this.conversationVisible(conn, conversationId))) {
          return conn.send({ type: 'error', code: frameErrors.conversationNotFound });
        }
        if (conn.closed) return;
        this.presence.view(conn.id, p.workspaceId, conversationId, { userId: p.userId, name: p.name });
        if (conversationId) conn.send({ type: 'presence', conversationId, viewers: this.presence.viewers(p.workspaceId, conversationId) });
        return;
      }
      case 'typing': {
        if (!p.userId) return conn.send({ type: 'error', code: frameErrors.needsUser });
        if (!p.role || !atLeast(p.role, 'agent')) return conn.send({ type: 'error', code: frameErrors.forbidden });
        if (!this.presence.isViewing(conn.id, frame.conversationId.toLowerCase())) return conn.send({ type: 'error', code: frameErrors.notViewing });
        this.presence.typing(conn.id, frame.typing);
        return;
      }
    }
  }

  /** Whether the conversation exists in the socket's workspace (RLS-scoped; cached per connection). */
  private async conversationVisible(conn: Connection, conversationId: string): Promise<boolean> {
    if (conn.knownConversations.has(conversationId)) return true;
    const ws = conn.principal.workspaceId;
    const ok = await conversationExists({ pool: this.pool, workspaceId: ws }, conversationId);
    if (ok) {
      if (conn.knownConversations.size > 500) conn.knownConversations.clear();
      conn.knownConversations.add(conversationId);
    }
    return ok;
  }

  /** Heartbeats that had customer sockets to check, the sockets checked, and the queries run for them (one per heartbeat). */
  readonly customerChecks = { heartbeats: 0, sockets: 0, queries: 0 };

  private heartbeat(): void {
    const customers: Connection[] = [];
    for (const c of this.connections) {
      if (!c.alive) {
        c.socket.terminate();
        this.detach(c);
        continue;
      }
      if (c.principal.audience.kind === 'customer') customers.push(c);
      c.alive = false;
      try {
        c.socket.ping();
      } catch {
        /* closed meanwhile */
      }
      void c.principal.stillValid().then(
        (state) => {
          if (state === 'unauthenticated') c.close(CloseCodes.unauthenticated, 'signed out');
          else if (state === 'not_found') c.close(CloseCodes.notFound, 'no such workspace');
          // 1012 Service Restart (RFC 6455 registry): reconnect now; the new socket gets the new audience.
          else if (state === 'changed') c.close(CloseCodes.reconnect, 'role changed');
        },
        () => {},
      );
    }
    this.checkCustomers(customers);
  }

  /**
   * Closes (4404) the customer sockets whose customer no longer exists (deleted, merged away): one
   * query for every customer socket of the instance, not one per socket. A failed read closes nothing
   * (the next heartbeat asks again).
   */
  private checkCustomers(conns: Connection[]): void {
    if (conns.length === 0) return;
    const refs = new Map<string, { workspaceId: string; id: string }>();
    for (const c of conns) {
      const a = c.principal.audience;
      if (a.kind === 'customer') refs.set(`${c.principal.workspaceId}:${a.customerId}`, { workspaceId: c.principal.workspaceId, id: a.customerId });
    }
    this.customerChecks.heartbeats++;
    this.customerChecks.sockets += conns.length;
    withSystem(this.pool, (tx) => {
      this.customerChecks.queries++;
      return existingCustomers(tx, [...refs.values()]);
    }).then(
      (existing) => {
        for (const c of conns) {
          const a = c.principal.audience;
          if (a.kind === 'customer' && !existing.has(`${c.principal.workspaceId}:${a.customerId}`)) c.close(CloseCodes.notFound, 'no such customer');
        }
      },
      (error) => this.log.warn({ err: (error as Error).message }, 'realtime could not check customer sockets'),
    );
  }

  // ---- presence -------------------------------------------------------------------------------

  private onPresenceNotification(payload: string): void {
    let m: PresenceMessage;
    try {
      m = JSON.parse(payload);
    } catch {
      return;
    }
    if (typeof m?.i !== 'string' || typeof m.w !== 'string' || typeof m.c !== 'string' || !Array.isArray(m.v) || typeof m.ttl !== 'number') return;
    this.presence.receive(m);
  }

  private broadcastPresence(workspaceId: string, conversationId: string, viewers: Viewer[]): void {
    const conns = this.byWorkspace.get(workspaceId);
    if (!conns) return;
    const text = Buffer.from(JSON.stringify({ type: 'presence', conversationId, viewers }));
    for (const c of conns) if (!c.replaying && c.principal.audience.kind === 'agents') c.send(text);
  }

  /** Presence NOTIFYs go out one at a time, latest state per conversation, so they arrive in order. */
  private publishPresence(message: PresenceMessage): void {
    if (this.stopped) return;
    this.presenceOut.set(`${message.w}:${message.c}`, message);
    if (this.presenceSending) return;
    this.presenceSending = true;
    void (async () => {
      try {
        while (this.presenceOut.size > 0 && !this.stopped) {
          const [k, m] = this.presenceOut.entries().next().value as [string, PresenceMessage];
          this.presenceOut.delete(k);
          await withSystem(this.pool, (tx) => repo.notify(tx, PRESENCE_CHANNEL, JSON.stringify(m))).catch((error) => this.log.warn({ err: (error as Error).message }, 'presence publish failed'));
        }
      } finally {
        this.presenceSending = false;
      }
    })();
  }
}
