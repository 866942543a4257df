import type { Viewer } from './realtime.protocol.js';

/**
 * Who is viewing (and typing in) which conversation, across instances.
 *
 * Each instance knows its own sockets ("local") exactly. It publishes the local viewers of a
 * conversation whenever they change, and re-publishes all of them every `refreshMs`, on the
 * `rapport_presence` channel; every instance keeps what the others published ("remote") until it
 * expires (`ttlMs`, a few refresh periods). So a viewer on an instance that died disappears within
 * `ttlMs` without anyone having to say goodbye for it.
 *
 * Liveness runs on a monotonic timer (`now`), not the business clock: tests that freeze business time
 * must not freeze instance expiry.
 */
export interface PresenceMessage {
  /** instance id */
  i: string;
  w: string;
  c: string;
  /** viewers on that instance: userId, name, typing */
  v: Array<{ u: string; n: string; t: boolean }>;
  /** milliseconds this message stays valid */
  ttl: number;
}

interface LocalEntry {
  workspaceId: string;
  conversationId: string;
  userId: string;
  name: string;
  typingUntil: number;
}

export interface PresenceOptions {
  instanceId: string;
  /** Send a message to the other instances (NOTIFY). */
  publish(message: PresenceMessage): void;
  /** The merged viewers of a conversation changed: tell the local sockets of the workspace. */
  onChange(workspaceId: string, conversationId: string, viewers: Viewer[]): void;
  now?: () => number;
  ttlMs?: number;
  refreshMs?: number;
  /** How long a typing signal lasts without being repeated. */
  typingMs?: number;
}

/** Bounds that keep one NOTIFY payload far below PostgreSQL's 8000-byte limit. */
const MAX_VIEWERS_PER_MESSAGE = 20;
const MAX_NAME = 80;

const key = (ws: string, conv: string) => `${ws}:${conv}`;

export class Presence {
  private readonly local = new Map<string, LocalEntry>(); // by connection id
  private readonly remote = new Map<string, Map<string, { viewers: Viewer[]; expiresAt: number }>>();
  private readonly lastSent = new Map<string, string>();
  private readonly now: () => number;
  readonly ttlMs: number;
  readonly refreshMs: number;
  readonly typingMs: number;
  private lastRefresh = 0;

  constructor(private readonly opts: PresenceOptions) {
    this.now = opts.now ?? (() => performance.now());
    this.refreshMs = opts.refreshMs ?? 10_000;
    this.ttlMs = opts.ttlMs ?? this.refreshMs * 3;
    this.typingMs = opts.typingMs ?? 6_000;
  }

  /** The connection now views `conversationId` (or nothing, with null). */
  view(connId: string, workspaceId: string, conversationId: string | null, user: { userId: string; name: string }): void {
    const before = this.local.get(connId);
    if (before && before.conversationId === conversationId) return;
    this.local.delete(connId);
    if (before) this.changed(before.workspaceId, before.conversationId, true);
    if (conversationId) {
      this.local.set(connId, { workspaceId, conversationId, userId: user.userId, name: user.name.slice(0, MAX_NAME), typingUntil: 0 });
      this.changed(workspaceId, conversationId, true);
    }
  }

  /** Whether the connection views that conversation (typing is only accepted there). */
  isViewing(connId: string, conversationId: string): boolean {
    return this.local.get(connId)?.conversationId === conversationId;
  }

  typing(connId: string, typing: boolean): void {
    const entry = this.local.get(connId);
    if (!entry) return;
    const wasTyping = entry.typingUntil > this.now();
    entry.typingUntil = typing ? this.now() + this.typingMs : 0;
    if (wasTyping !== typing) this.changed(entry.workspaceId, entry.conversationId, true);
  }

  leave(connId: string): void {
    const entry = this.local.get(connId);
    if (!entry) return;
    this.local.delete(connId);
    this.changed(entry.workspaceId, entry.conversationId, true);
  }

  /** A message from another instance. */
  receive(message: PresenceMessage): void {
    if (message.i === this.opts.instanceId) return;
    const k = key(message.w, message.c);
    let byInstance = this.remote.get(k);
    if (!byInstance) {
      byInstance = new Map();
      this.remote.set(k, byInstance);
    }
    if (message.v.length === 0) byInstance.delete(message.i);
    else {
      byInstance.set(message.i, {
        viewers: message.v.map((v) => ({ userId: v.u, name: v.n, typing: v.t })),
        expiresAt: this.now() + Math.min(message.ttl, 120_000),
      });
    }
    if (byInstance.size === 0) this.remote.delete(k);
    this.changed(message.w, message.c, false);
  }

  /** Every viewer of a conversation on any instance, one entry per user (typing if any tab types). */
  viewers(workspaceId: string, conversationId: string): Viewer[] {
    const now = this.now();
    const byUser = new Map<string, Viewer>();
    const add = (v: Viewer) => {
      const seen = byUser.get(v.userId);
      if (seen) seen.typing ||= v.typing;
      else byUser.set(v.userId, { ...v });
    };
    for (const e of this.local.values()) {
      if (e.workspaceId === workspaceId && e.conversationId === conversationId) add({ userId: e.userId, name: e.name, typing: e.typingUntil > now });
    }
    for (const r of this.remote.get(key(workspaceId, conversationId))?.values() ?? []) {
      if (r.expiresAt > now) r.viewers.forEach(add);
    }
    return [...byUser.values()].sort((a, b) => a.name.localeCompare(b.name) || a.userId.localeCompare(b.userId));
  }

  /**
   * Periodic work: typing signals and remote entries that expired are dropped (and announced), and
   * local presence is re-published so the other instances keep it alive.
   */
  tick(): void {
    const now = this.now();
    const typingEnded = new Set<string>();
    const expired = new Set<string>();
    for (const e of this.local.values()) {
      if (e.typingUntil !== 0 && e.typingUntil <= now) {
        e.typingUntil = 0;
        typingEnded.add(key(e.workspaceId, e.conversationId));
      }
    }
    for (const [k, byInstance] of this.remote) {
      for (const [instance, r] of byInstance) {
        if (r.expiresAt <= now) {
          byInstance.delete(instance);
          expired.add(k);
        }
      }
      if (byInstance.size === 0) this.remote.delete(k);
    }
    for (const k of new Set([...typingEnded, ...expired])) {
      const [ws, conv] = k.split(':');
      this.changed(ws, conv, typingEnded.has(k));
    }
    if (now - this.lastRefresh >= this.refreshMs) {
      this.lastRefresh = now;
      const keys = new Set([...this.local.values()].map((e) => key(e.workspaceId, e.conversationId)));
      for (const k of keys) {
        const [ws, conv] = k.split(':');
        this.publishLocal(ws, conv);
      }
    }
  }

  private changed(workspaceId: string, conversationId: string, localChanged: boolean): void {
    if (localChanged) this.publishLocal(workspaceId, conversationId);
    const k = key(workspaceId, conversationId);
    const viewers = this.viewers(workspaceId, conversationId);
    const text = JSON.stringify(viewers);
    if (this.lastSent.get(k) === text) return;
    if (viewers.length === 0) this.lastSent.delete(k);
    else this.lastSent.set(k, text);
    this.opts.onChange(workspaceId, conversationId, viewers);
  }

  private publishLocal(workspaceId: string, conversationId: string): void {
    const now = this.now();
    const byUser = new Map<string, { u: string; n: string; t: boolean }>();
    for (const e of this.local.values()) {
      if (e.workspaceId !== workspaceId || e.conversationId !== conversationId) continue;
      const seen = byUser.get(e.userId);
      if (seen) seen.t ||= e.typingUntil > now;
      else byUser.set(e.userId, { u: e.userId, n: e.name, t: e.typingUntil > now });
    }
    this.opts.publish({ i: this.opts.instanceId, w: workspaceId, c: conversationId, v: [...byUser.values()].slice(0, MAX_VIEWERS_PER_MESSAGE), ttl: this.ttlMs });
  }
}
