import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import type { Pool } from '../db/pool.js';
import type { Actor } from '../events/events.types.js';
import type { Clock } from '../lib/clock.js';
import { commonErrors, defineError } from '../lib/errors.js';
import { liveSession } from '../modules/auth/auth.service.js';
import { atLeast, type Role } from '../modules/auth/roles.js';
import { safeEqual, sha256 } from '../modules/auth/secrets.js';
import { principalOf } from '../modules/context.js';
import { membershipRole, useApiToken } from '../modules/workspaces/workspaces.accounts.service.js';

export const SESSION_COOKIE = 'rapport_session';

export type Auth = { kind: 'session'; userId: string; csrfToken: string; sessionToken: string } | { kind: 'token'; tokenId: string; workspaceId: string; role: Role };

export interface WorkspaceContext {
  id: string;
  role: Role;
  actor: Actor;
  /** 'user:<id>' or 'token:<id>': who the idempotency keys and audit belong to. */
  principal: string;
  userId: string | null;
}

declare module 'fastify' {
  interface FastifyRequest {
    auth: Auth | null;
    workspace: WorkspaceContext;
  }
  interface FastifyContextConfig {
    /** The least role a route needs; reads default to client_viewer, writes to agent. */
    minRole?: Role;
    /** Routes that answer without a signed-in caller. */
    public?: boolean;
  }
}

export const workspaceNotFound = defineError('workspaces.not_found', 404, 'No such workspace');
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Who is calling. Look-ups are cached for a few seconds per instance so a busy integration does not
 * pay a query per request; a revoked token or ended session stops working within `ttlMs` everywhere
 * and at once on the instance that revoked it.
 */
export class PrincipalResolver {
  private cache = new Map<string, { value: unknown; expires: number }>();
  /** Look-ups under way: concurrent callers share one (600 handshakes of one token once queued 600 updates of its row). */
  private inflight = new Map<string, Promise<unknown>>();

  constructor(
    private readonly pool: Pool,
    private readonly clock: Clock,
    private readonly ttlMs = 5000,
  ) {}

  async session(token: string): Promise<{ userId: string; csrfToken: string } | null> {
    return this.cached(`s:${token}`, async () => {
      const s = await liveSession({ pool: this.pool, clock: this.clock }, token);
      return s ? { userId: s.user.id, csrfToken: s.csrfToken } : null;
    });
  }

  async token(token: string): Promise<{ tokenId: string; workspaceId: string; role: Role } | null> {
    return this.cached(`t:${token}`, async () => {
      const t = await useApiToken({ pool: this.pool }, sha256(token), this.clock.now());
      return t ? { tokenId: t.id, workspaceId: t.workspaceId, role: t.role } : null;
    });
  }

  async membership(workspaceId: string, userId: string): Promise<Role | null> {
    return this.cached(`m:${workspaceId}:${userId}`, async () => (await membershipRole({ pool: this.pool }, workspaceId, userId)) ?? null);
  }

  forget(prefix?: string): void {
    if (!prefix) {
      this.inflight.clear();
      this.cache.clear();
      return;
    }
    for (const key of this.cache.keys()) if (key.startsWith(prefix)) this.cache.delete(key);
    for (const key of this.inflight.keys()) if (key.startsWith(prefix)) this.inflight.delete(key);
  }

  private async cached<T>(key: string, load: () => Promise<T>): Promise<T> {
    const now = Date.now();
    const hit = this.cache.get(key);
    if (hit && hit.expires > now) return hit.value as T;
    const pending = this.inflight.get(key);
    if (pending) return pending as Promise<T>;
    const loading: Promise<T> = load().then(
      (value) => {
        // Forgotten meanwhile (a revocation): answer this caller, but cache nothing.
        if (this.inflight.get(key) !== loading) return value;
        this.inflight.delete(key);
        if (this.cache.size > 50_000) this.cache.clear();
        this.cache.set(key, { value, expires: now + this.ttlMs });
        return value;
      },
      (error: unknown) => {
        if (this.inflight.get(key) === loading) this.inflight.delete(key);
        throw error;
      },
    );
    this.inflight.set(key, loading);
    return loading;
  }
}

export function registerAuth(app: FastifyInstance, resolver: PrincipalResolver): void {
  app.decorateRequest('auth', null);
  app.decorateRequest('workspace', null as unknown as WorkspaceContext);

  app.addHook('onRequest', async (request: FastifyRequest) => {
    if (!request.url.startsWith('/api/v1/')) return;
    const header = request.headers.authorization;
    if (header) {
      const match = /^Bearer\s+(\S{1,200})$/i.exec(header);
      const t = match ? await resolver.token(match[1]) : null;
      if (!t) throw commonErrors.unauthenticated('The API token is not valid.');
      request.auth = { kind: 'token', ...t };
      return;
    }
    const cookie = request.cookies?.[SESSION_COOKIE];
    if (cookie && cookie.length <= 200) {
      const s = await resolver.session(cookie);
      if (s) {
        request.auth = { kind: 'session', userId: s.userId, csrfToken: s.csrfToken, sessionToken: cookie };
        // Cookie-authenticated writes must prove they come from our own pages (double submit of
        // the token the session handed out). Bearer calls cannot be forged cross-site and need none.
        if (!SAFE_METHODS.has(request.method)) {
          const sent = request.headers['x-csrf-token'];
          if (typeof sent !== 'string' || !safeEqual(sent, s.csrfToken)) throw commonErrors.csrf();
        }
      }
    }
  });
}

/** The least role a workspace route needs: its declared `minRole`, else reads for client_viewer and writes for agent. */
export function minRoleOf(method: string, config: { minRole?: Role } | undefined): Role {
  return config?.minRole ?? (SAFE_METHODS.has(method) ? 'client_viewer' : 'agent');
}

/**
 * onRoute hook of the workspace scope: settles each route's least role when it is registered and
 * publishes it in the OpenAPI document as `x-min-role`, so API users read it and the role-matrix test
 * (test/role-matrix.test.ts) walks every route with the role the server enforces, new routes included.
 */
export function declareMinRole(route: RouteOptions): void {
  const methods = Array.isArray(route.method) ? route.method : [route.method];
  // A GET route answers HEAD too; both are reads, so one role covers the route.
  const minRole = minRoleOf(methods[0], route.config as { minRole?: Role } | undefined);
  if (route.config) (route.config as { minRole?: Role }).minRole = minRole;
  else route.config = { minRole } as RouteOptions['config'];
  if (route.schema) (route.schema as Record<string, unknown>)['x-min-role'] = minRole;
}

/** Hook for routes under /api/v1/workspaces/:workspaceId: who the caller is in that workspace. */
export function workspaceScope(resolver: PrincipalResolver) {
  return async (request: FastifyRequest, _reply: FastifyReply) => {
    const auth = request.auth;
    if (!auth) throw commonErrors.unauthenticated();
    const workspaceId = (request.params as { workspaceId?: string }).workspaceId ?? '';
    if (!UUID_RE.test(workspaceId)) throw workspaceNotFound();
    let role: Role | null;
    let actor: Actor;
    let userId: string | null = null;
    if (auth.kind === 'token') {
      // A token acts in its own workspace only; anywhere else it is as if the workspace did not exist.
      role = auth.workspaceId === workspaceId.toLowerCase() ? auth.role : null;
      actor = { type: 'token', id: auth.tokenId };
    } else {
      role = await resolver.membership(workspaceId.toLowerCase(), auth.userId);
      actor = { type: 'user', id: auth.userId };
      userId = auth.userId;
    }
    if (!role) throw workspaceNotFound();
    if (!atLeast(role, minRoleOf(request.method, request.routeOptions.config))) throw commonErrors.forbidden();
    request.workspace = { id: workspaceId.toLowerCase(), role, actor, principal: principalOf(actor), userId };
  };
}
