import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { loadConfig, type Config } from '../src/config.js';
import type { Subscriber } from '../src/events/subscribers.js';
import type { Clock } from '../src/lib/clock.js';
import { createLogger, type Logger } from '../src/lib/logger.js';
import type { HostLookup } from '../src/lib/outbound/outbound.guard.js';
import type { DnsResolver } from '../src/lib/dns.js';
import { localMailDns } from '../src/lib/dns.testing.js';
import type { Role } from '../src/modules/auth/roles.js';
import type { RapportModule } from '../src/modules/module.js';
import { addMember, createToken, createUserAccount, createWorkspace } from '../src/modules/workspaces/workspaces.service.js';
import { startRapport, type Rapport } from '../src/server.js';
import { startSink } from '../src/modules/channels/email/email.testing.js';
import { createTestDatabase } from './db.js';

export interface TestServer extends Rapport {
  config: Config;
}

/**
 * A real Rapport on its own fresh database: HTTP on a free loopback port (use `app.inject` or the
 * URL), the dispatcher and job worker running. No demo data unless asked.
 */
export async function startTestServer(
  opts: { log?: Logger; clock?: Clock; subscribers?: Subscriber[]; modules?: RapportModule[]; config?: Partial<Config>; seedDemo?: boolean; outboundLookup?: HostLookup; dns?: DnsResolver } = {},
): Promise<TestServer> {
  const databaseUrl = await createTestDatabase();
  // The mail servers of the tests (SMTP sinks, Dovecot) listen on loopback, so the test harness lets
  // outbound connections reach it, as an operator would with their own relay; the SSRF tests pass
  // `outboundAllowedNetworks: []` to run with the default, empty allow-list.
  const config = loadConfig(
    {},
    { databaseUrl, host: '127.0.0.1', port: 0, smtpPort: 0, seedDemo: opts.seedDemo ?? false, logLevel: 'silent', outboundAllowedNetworks: ['127.0.0.0/8'], ...opts.config },
  );
  const rapport = await startRapport(config, {
    log: opts.log ?? createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'),
    clock: opts.clock,
    subscribers: opts.subscribers,
    modules: opts.modules,
    outboundLookup: opts.outboundLookup,
    // Offline DNS in which every domain's mail comes from loopback (dns.testing.ts): mail the tests
    // send in a domain's name is verified; tests of forged mail pass their own zone.
    dns: opts.dns ?? localMailDns,
    print: () => {},
  });
  return { ...rapport, config };
}

export interface TestWorkspace {
  workspaceId: string;
  inboxId: string;
  owner: { id: string; email: string; password: string };
  /** An admin API token for this workspace. */
  token: string;
}

let counter = 0;

/** A workspace with an owner (who can sign in) and an admin API token. */
export async function createTestWorkspace(rapport: Rapport, slug = `ws-${process.pid}-${++counter}`): Promise<TestWorkspace> {
  const deps = rapport.server;
  const email = `owner-${slug}@example.test`;
  const password = 'correct horse battery staple';
  const ownerId = await createUserAccount(deps, { email, name: `Owner ${slug}`, password });
  const { id: workspaceId, inboxId } = await createWorkspace(deps, { name: `Workspace ${slug}`, slug, ownerUserId: ownerId });
  const { token } = await createToken({ pool: deps.pool, clock: deps.clock, workspaceId, actor: { type: 'user', id: ownerId } }, 'owner', { name: 'test', role: 'admin' });
  return { workspaceId, inboxId, owner: { id: ownerId, email, password }, token };
}

/**
 * A server whose system mail relay (invitations, password resets, address confirmations) is a real
 * SMTP sink on loopback, with one workspace; `stop()` ends both.
 */
export async function startWithMailRelay(opts: Parameters<typeof startTestServer>[0] = {}) {
  const sink = await startSink();
  const rapport = await startTestServer({ ...opts, config: { systemMailSmtpUrl: `smtp://127.0.0.1:${sink.port}`, systemMailFrom: 'no-reply@rapport.test', ...opts.config } });
  const ws = await createTestWorkspace(rapport);
  return {
    rapport,
    ws,
    sink,
    stop: async () => {
      await rapport.stop();
      await sink.close();
    },
  };
}

/** The usual start of a test file: a server on its own database, one workspace, its admin API client. */
export async function startWithWorkspace(opts: Parameters<typeof startTestServer>[0] = {}) {
  const rapport = await startTestServer(opts);
  const ws = await createTestWorkspace(rapport);
  return { rapport, ws, api: client(rapport, ws.token, ws.workspaceId) };
}

/** Adds a member with a password and returns their id and credentials. */
export async function addTestMember(rapport: Rapport, ws: TestWorkspace, role: Role, name: string = role) {
  const email = `${name}-${++counter}-${ws.workspaceId.slice(0, 8)}@example.test`;
  const password = 'another long password';
  const deps = rapport.server;
  const member = await addMember({ pool: deps.pool, clock: deps.clock, workspaceId: ws.workspaceId, actor: { type: 'user', id: ws.owner.id } }, 'owner', { email, name, role, password });
  return { id: member.id, email, password };
}

/** A token for `role` in the workspace. */
export async function tokenFor(rapport: Rapport, ws: TestWorkspace, role: Exclude<Role, 'owner'>): Promise<string> {
  const deps = rapport.server;
  return (await createToken({ pool: deps.pool, clock: deps.clock, workspaceId: ws.workspaceId, actor: { type: 'user', id: ws.owner.id } }, 'owner', { name: role, role })).token;
}

/** HTTP through app.inject with a bearer token. */
export function client(rapport: Rapport, token: string, workspaceId: string) {
  const call = (method: InjectOptions['method'], path: string, body?: unknown, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> =>
    rapport.app.inject({
      method,
      url: path.startsWith('/api/') ? path : `/api/v1/workspaces/${workspaceId}${path}`,
      headers: { authorization: `Bearer ${token}`, ...headers },
      ...(body === undefined ? {} : { payload: body as InjectOptions['payload'] }),
    });
  return {
    get: (path: string, headers?: Record<string, string>) => call('GET', path, undefined, headers),
    post: (path: string, body: unknown, headers?: Record<string, string>) => call('POST', path, body, headers),
    patch: (path: string, body: unknown, headers?: Record<string, string>) => call('PATCH', path, body, headers),
    delete: (path: string, headers?: Record<string, string>) => call('DELETE', path, undefined, headers),
  };
}

/** Signs in through the API; returns the cookie header and CSRF token for later calls. */
export async function signIn(rapport: Rapport, email: string, password: string) {
  const res = await rapport.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email, password } });
  if (res.statusCode !== 200) throw new Error(`sign-in failed: ${res.statusCode} ${res.body}`);
  const cookie = res.cookies.find((c) => c.name === 'rapport_session')!;
  return { cookie: `rapport_session=${cookie.value}`, csrfToken: res.json().csrfToken as string, body: res.json() };
}

/** Waits until `check` returns a truthy value (polling real state, never a fixed sleep). */
export async function eventually<T>(check: () => Promise<T | undefined | null | false>, timeoutMs = 10_000, everyMs = 50): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < until) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`condition not met within ${timeoutMs} ms${last ? `: ${(last as Error).message}` : ''}`);
}
