import type { AddressInfo } from 'node:net';
import type { FastifyRequest } from 'fastify';
import { publicUrl } from '../../config.js';
import { withWorkspace } from '../../db/tenancy.js';
import { principalKey } from '../../http/connection-limits.js';
import { clientKey } from '../../lib/net/client-address.js';
import type { App } from '../../http/types.js';
import type { Deps } from '../context.js';
import { CloseCodes, RealtimeQuery } from './realtime.protocol.js';
import { realtimeErrors } from './realtime.errors.js';
import { audienceOfRole, type Principal, type RealtimeHub, type SocketLimits, type SocketPlace } from './realtime.hub.js';
import type { CustomerCredential, CustomerCredentials } from './realtime.customer-credentials.js';
import { customerNames } from '../customers/customers.service.js';
import { actorKey, actorNames } from '../workspaces/workspaces.service.js';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type Settled = { status: 'ok'; principal: Principal } | { status: 'unauthenticated' } | { status: 'not_found' } | { status: 'over_limit'; reason: string };

/** The origins a browser page of this Rapport has: PUBLIC_URL (or http://HOST:PORT) and the Host it was reached at. */
function ownOrigins(app: App, server: Deps, request: FastifyRequest): Set<string> {
  const address = app.server.address() as AddressInfo | null;
  const own = new URL(publicUrl(server.config, address?.port ?? server.config.port));
  const origins = new Set([own.origin]);
  const host = request.headers.host;
  if (host) {
    try {
      origins.add(new URL(`${own.protocol}//${host}`).origin);
    } catch {
      /* a Host header that is not a host adds nothing */
    }
  }
  return origins;
}

function normalizedOrigin(value: string): string | null {
  try {
    return new URL(value).origin;
  } catch {
    return null;
  }
}

/** The WebSocket subprotocol a customer offers first; the credential travels as the second one (see customerCredentialOf). */
export const CUSTOMER_PROTOCOL = 'rapport-customer';

/**
 * A customer's credential, offered as a second WebSocket subprotocol (`new WebSocket(url,
 * ['rapport-customer', token])`): a browser cannot set an Authorization header on a WebSocket, and a
 * query string would be written to access logs. The server answers with `rapport-customer` only.
 */
function customerCredentialOf(request: FastifyRequest): string | null {
  const header = request.headers['sec-websocket-protocol'];
  if (typeof header !== 'string') return null;
  const offered = header.split(',').map((p) => p.trim());
  return offered[0] === CUSTOMER_PROTOCOL && offered.length === 2 ? offered[1] : null;
}

/**
 * GET /api/v1/realtime?workspaceId=&lastEventId= (WebSocket). Who may connect is settled before the
 * upgrade: the Origin must be this server's (a browser always sends one; only bearer-token clients may
 * omit it), then the caller (session cookie or bearer token, resolved by the global auth hook) must
 * belong to the workspace. A wrong Origin is an HTTP 403 and never upgrades; no caller closes with
 * 4401 and a workspace that is not theirs (or does not exist) with 4404, the same in both cases.
 *
 * A customer connects with a signed credential instead (realtime.customer-credentials.ts), from any
 * Origin: the credential is not ambient (no cookie rides along a cross-site page), so the Origin check
 * that protects the session cookie adds nothing. A forged, expired or other workspace's credential
 * closes 4401, a customer that no longer exists 4404 (and an open socket of a customer deleted since, at
 * the next heartbeat).
 */
export function realtimeRoutes(app: App, server: Deps, hub: RealtimeHub, credentials: Promise<CustomerCredentials>): void {
  const settled = new WeakMap<FastifyRequest, Settled>();
  const places = new WeakMap<FastifyRequest, SocketPlace>();
  const limitsOf = (request: FastifyRequest): SocketLimits => ({
    address: clientKey(request.socket.remoteAddress),
    perPrincipal: server.config.realtimeMaxSocketsPerPrincipal,
    perAddress: server.config.realtimeMaxSocketsPerIp,
  });

  app.get(
    '/api/v1/realtime',
    {
      websocket: true,
      schema: { querystring: RealtimeQuery, hide: true },
      preHandler: async (request: FastifyRequest) => {
        const customerToken = customerCredentialOf(request);
        if (customerToken !== null) {
          const credential = (await credentials).verify(customerToken);
          const workspaceId = (request.query as RealtimeQuery).workspaceId.toLowerCase();
          if (!credential || credential.workspaceId !== workspaceId) return void settled.set(request, { status: 'unauthenticated' });
          const place = hub.reserve(`customer:${credential.customerId}`, limitsOf(request));
          if ('refused' in place) return void settled.set(request, { status: 'over_limit', reason: place.refused });
          places.set(request, place);
          request.raw.socket.once('close', place.release);
          return void settled.set(request, await settleCustomer(server, credential, credentials));
        }
        const origin = request.headers.origin;
        if (origin !== undefined) {
          const o = normalizedOrigin(origin);
          if (!o || !ownOrigins(app, server, request).has(o)) throw realtimeErrors.originRefused();
        } else if (request.auth?.kind !== 'token') {
          throw realtimeErrors.originRefused('A browser connection must send its Origin.');
        }
        // A place is held before any look-up (19,393 sockets were once opened by one agent): past the
        // limit the handshake costs nothing more, and the place goes when the socket does.
        const key = principalKey(request);
        if (key) {
          const place = hub.reserve(key, limitsOf(request));
          if ('refused' in place) return void settled.set(request, { status: 'over_limit', reason: place.refused });
          places.set(request, place);
          request.raw.socket.once('close', place.release);
        }
        settled.set(request, await settle(server, request));
      },
    } as never,
    ((socket: import('ws').WebSocket, request: FastifyRequest<{ Querystring: RealtimeQuery }>) => {
      const s = settled.get(request);
      const place = places.get(request);
      if (s?.status !== 'ok') place?.release();
      if (!s || s.status === 'unauthenticated') return socket.close(CloseCodes.unauthenticated, 'sign in');
      if (s.status === 'not_found') return socket.close(CloseCodes.notFound, 'no such workspace');
      // 1013 Try Again Later (RFC 6455 registry): the client keeps its backoff and retries later.
      if (s.status === 'over_limit') return socket.close(CloseCodes.tryAgainLater, s.reason);
      hub.attach(socket, s.principal, request.query.lastEventId, place);
    }) as never,
  );
}

/** The customer's name ('' when unnamed), or undefined when there is no such customer in the workspace (the customers module's). */
async function customerName(server: Deps, workspaceId: string, customerId: string): Promise<string | null | undefined> {
  const names = await withWorkspace(server.pool, workspaceId, (tx) => customerNames({ workspaceId, tx }, [customerId]));
  return names.has(customerId) ? names.get(customerId) : undefined;
}

/** The name presence shows for a member or an API token (the workspaces module's). */
async function actorName(server: Deps, workspaceId: string, type: 'user' | 'token', id: string): Promise<string | undefined> {
  const names = await withWorkspace(server.pool, workspaceId, (tx) => actorNames({ workspaceId, tx }, [{ type, id }]));
  return names.get(actorKey(type, id));
}

async function settleCustomer(server: Deps, credential: CustomerCredential, credentials: Promise<CustomerCredentials>): Promise<Settled> {
  const { workspaceId, customerId } = credential;
  const name = await customerName(server, workspaceId, customerId);
  if (name === undefined) return { status: 'not_found' };
  return {
    status: 'ok',
    principal: {
      key: `customer:${customerId}`,
      workspaceId,
      role: null,
      audience: { kind: 'customer', customerId },
      userId: null,
      name: name ?? '',
      // Re-checked at every heartbeat: a credential that lapsed closes the socket (4401) and the widget
      // mints a new one (no query). That the customer still exists is checked by the hub for every
      // customer socket of the instance in one query per heartbeat (RealtimeHub.checkCustomers): one
      // deleted (or merged away) since is closed 4404, like a new connection with that credential.
      stillValid: async () => ((await credentials).isLive(credential) ? 'ok' : 'unauthenticated'),
    },
  };
}

async function settle(server: Deps, request: FastifyRequest): Promise<Settled> {
  const auth = request.auth;
  if (!auth) return { status: 'unauthenticated' };
  const raw = (request.query as RealtimeQuery).workspaceId;
  if (!UUID_RE.test(raw)) return { status: 'not_found' };
  const workspaceId = raw.toLowerCase();
  const resolver = server.resolver;
  if (auth.kind === 'token') {
    if (auth.workspaceId !== workspaceId) return { status: 'not_found' };
    const name = (await actorName(server, workspaceId, 'token', auth.tokenId)) ?? 'API token';
    const header = request.headers.authorization ?? '';
    const rawToken = /^Bearer\s+(\S{1,200})$/i.exec(header)?.[1] ?? '';
    return {
      status: 'ok',
      principal: {
        key: `token:${auth.tokenId}`,
        workspaceId,
        role: auth.role,
        audience: audienceOfRole(auth.role),
        userId: null,
        name,
        stillValid: async () => {
          const t = await resolver.token(rawToken);
          return t && t.workspaceId === workspaceId ? 'ok' : 'unauthenticated';
        },
      },
    };
  }
  const role = await resolver.membership(workspaceId, auth.userId);
  if (!role) return { status: 'not_found' };
  const name = (await actorName(server, workspaceId, 'user', auth.userId)) ?? '';
  const { sessionToken, userId } = auth;
  return {
    status: 'ok',
    principal: {
      key: `user:${userId}`,
      workspaceId,
      role,
      audience: audienceOfRole(role),
      userId,
      name,
      stillValid: async () => {
        const s = await resolver.session(sessionToken);
        if (!s) return 'unauthenticated';
        const now = await resolver.membership(workspaceId, userId);
        if (!now) return 'not_found';
        // A member moved to another audience (an agent made client viewer) reconnects to get the new one.
        return audienceOfRole(now).kind === audienceOfRole(role).kind ? 'ok' : 'changed';
      },
    },
  };
}
