import type { Config } from '../config.js';
import type { Pool, PoolClient } from '../db/pool.js';
import type { Actor } from '../events/events.types.js';
import type { PrincipalResolver } from '../http/auth.js';
import type { Clock } from '../lib/clock.js';
import type { DnsResolver } from '../lib/dns.js';
import type { Logger } from '../lib/logger.js';
import type { OutboundGuard } from '../lib/outbound/outbound.guard.js';
import type { LoginThrottle } from './auth/login-throttle.js';
import type { ChannelRegistry } from './channels/channels.registry.js';
import type { SearchLimiter } from './conversations/conversations.search.limiter.js';

/**
 * The one dependencies shape: everything the composition root (server.ts) wires once, passed as one
 * named object to routes, modules, subscribers and tasks. Never a hidden singleton: a test starts a
 * server with its own clock, DNS and outbound guard and every use case sees them.
 */
export interface Deps {
  pool: Pool;
  clock: Clock;
  log: Logger;
  config: Config;
  resolver: PrincipalResolver;
  throttle: LoginThrottle;
  channels: ChannelRegistry;
  /** Every outbound connection (mail servers, later webhooks) is checked and pinned here (SECURITY M4, W4). */
  outbound: OutboundGuard;
  /** DNS records (TXT, MX, ...) for checking who sent an email; tests inject recorded ones. */
  dns: DnsResolver;
  /** Paces searches per user or API token (SECURITY M7). */
  searchLimiter: SearchLimiter;
}

/** Who acts where: the workspace a use case works in and the actor its events name. */
export interface Scope {
  workspaceId: string;
  actor: Actor;
}

/**
 * What a use case inside a workspace receives: the part of `Deps` it needs (pool and clock always,
 * more by name: `WorkspaceContext<'channels' | 'outbound'>`), who acts where, and optionally the
 * caller's transaction. With `tx`, the use case runs inside it (`inWorkspaceTx`) and commits nothing
 * itself, so a macro, an automation or the demo seed composes several use cases into one
 * transaction; without it, the use case opens its own.
 */
export type WorkspaceContext<K extends keyof Deps = never> = Pick<Deps, 'pool' | 'clock' | K> &
  Scope & {
    /** The caller's open transaction, already scoped to this workspace (or a system one). */
    tx?: PoolClient;
  };

/** The same context inside `tx`: what a use case passes to the use cases it composes. */
export function inTx<C extends { tx?: PoolClient }>(ctx: C, tx: PoolClient): C {
  return ctx.tx === tx ? ctx : { ...ctx, tx };
}

/** Who acts, as idempotency keys and uploads remember it: 'user:<id>' or 'token:<id>'. */
export function principalOf(actor: Actor): string {
  return `${actor.type}:${actor.id ?? ''}`;
}
