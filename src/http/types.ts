import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { Config } from '../config.js';
import type { Pool } from '../db/pool.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import type { WorkspaceDeps } from '../modules/context.js';
import type { PrincipalResolver } from './auth.js';
import type { LoginThrottle } from '../modules/auth/login-throttle.js';
import type { ChannelRegistry } from '../modules/channels/channels.registry.js';
import type { OutboundGuard } from '../lib/outbound/outbound.guard.js';
import type { DnsResolver } from '../lib/dns.js';
import type { SearchLimiter } from '../modules/conversations/conversations.search.limiter.js';

export type App = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, TypeBoxTypeProvider>;

/** What every route module receives from main.ts. */
export interface ServerDeps {
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

/** The use-case dependencies for the workspace a request acts in. */
export function workspaceDeps(server: ServerDeps, request: FastifyRequest): WorkspaceDeps {
  return { pool: server.pool, clock: server.clock, workspaceId: request.workspace.id, actor: request.workspace.actor };
}
