import type { Deps } from '../modules/context.js';
import type { RapportModule } from '../modules/module.js';
import cookie from '@fastify/cookie';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify from 'fastify';
import { declareMinRole, registerAuth, workspaceScope } from './auth.js';
import { registerCompression } from './compression.js';
import { clientErrorHandler, limitConnections, limitRequestsPerCredential, timeoutOptions } from './connection-limits.js';
import { refuseNulCharacters } from './nul-guard.js';
import { DOCS_CSP, addSecurityHeaders } from './security-headers.js';
import { registerErrorHandling } from './errors.js';
import { idempotencyHooks, loadFingerprintKey } from './idempotency.js';
import type { App } from './types.js';
import { documentObject, documentRoute } from './openapi.js';
import { validatorCompiler } from './validation.js';

/**
 * Lets a person drive the API from /api/docs after signing in there: the csrfToken that
 * POST /auth/login (or GET /auth/session) returns is remembered and sent as X-CSRF-Token on writes.
 * These functions are serialized into the Swagger UI page and run in the browser.
 */
const swaggerUiConfig = {
  persistAuthorization: true,
  withCredentials: true,
  requestInterceptor: function requestInterceptor(req: { method?: string; headers: Record<string, string> }) {
    const csrf = (globalThis as unknown as { rapportCsrf?: string }).rapportCsrf;
    if (csrf && req.method && req.method.toUpperCase() !== 'GET') req.headers['X-CSRF-Token'] = csrf;
    return req;
  },
  responseInterceptor: function responseInterceptor(res: { body?: unknown; text?: string }) {
    try {
      const body = (typeof res.body === 'object' ? res.body : JSON.parse(res.text || 'null')) as { csrfToken?: unknown } | null;
      if (body && typeof body.csrfToken === 'string') (globalThis as unknown as { rapportCsrf?: string }).rapportCsrf = body.csrfToken;
    } catch {
      // not JSON: nothing to remember
    }
    return res;
  },
};

/**
 * Assembles the HTTP server: validation, errors, auth, OpenAPI, then the routes each module declares
 * (core domains included: this file names none). Handlers stay thin: the schema validates, the
 * workspace scope says who acts where, a service does the work.
 */
export async function buildApp(server: Deps, modules: readonly RapportModule[]): Promise<App> {
  const app = Fastify({
    loggerInstance: server.log,
    bodyLimit: 1024 * 1024,
    // Only named proxies may say who the client is (X-Forwarded-For): anyone else could pick the
    // address every per-address throttle counts.
    trustProxy: server.config.trustProxy.length > 0 ? server.config.trustProxy : false,
    ajv: undefined,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    ...timeoutOptions(server.config),
    clientErrorHandler,
  }).withTypeProvider<TypeBoxTypeProvider>() as unknown as App;

  app.setValidatorCompiler(validatorCompiler);
  registerErrorHandling(app);
  addSecurityHeaders(app);
  // The edge checks run before authentication: a refused connection or a NUL costs no look-up.
  limitConnections(app, {
    maxConnections: server.config.httpMaxConnections,
    maxConnectionsPerIp: server.config.httpMaxConnectionsPerIp,
  });
  refuseNulCharacters(app);
  await app.register(cookie);
  // Before any route: the plugin adds its hook to each route as it is declared.
  await registerCompression(app);
  registerAuth(app, server.resolver);
  limitRequestsPerCredential(app, server.config.httpMaxRequestsPerCredential);

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      // Paths are absolute (/api/v1/...), served by whichever host answered the document.
      servers: [{ url: '/', description: 'This Rapport instance' }],
      info: {
        title: 'Rapport API',
        version: '1',
        license: { name: 'AGPL-3.0-only', identifier: 'AGPL-3.0-only' },
        description:
          'Sign in with POST /api/v1/auth/login (the session cookie is set), then send the returned csrfToken as X-CSRF-Token on writes; ' +
          'or create an API token and use Authorization: Bearer. Errors are application/problem+json with a stable `code`.',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer' },
          csrf: { type: 'apiKey', in: 'header', name: 'X-CSRF-Token' },
        },
      },
      security: [{ bearer: [] }, { csrf: [] }],
    },
    // Fills what a route left out: id, description, named response schemas, examples, `security: []`
    // for the routes that answer without signing in (openapi.ts).
    transform: documentRoute as never,
    transformObject: ((d: { openapiObject?: Record<string, unknown> }) => documentObject(d.openapiObject ?? {})) as never,
  });
  await app.register(swaggerUi, {
    routePrefix: '/api/docs',
    uiConfig: swaggerUiConfig as unknown as Record<string, unknown>,
    theme: { title: 'Rapport API' },
    staticCSP: DOCS_CSP,
  });

  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  app.get('/healthz', { schema: { hide: true } }, async (_request, reply) => {
    try {
      await server.pool.query('select 1');
      return { status: 'ok' };
    } catch {
      return reply.code(503).send({ status: 'unavailable' });
    }
  });

  await app.register(
    async (api) => {
      const v1 = api as unknown as App;
      for (const m of modules) m.apiRoutes?.(v1, server);
      await v1.register(
        async (scoped) => {
          const ws = scoped as unknown as App;
          ws.addHook('onRoute', declareMinRole);
          ws.addHook('onRequest', workspaceScope(server.resolver));
          const idem = idempotencyHooks(server.pool, await loadFingerprintKey(server.config));
          ws.addHook('onRoute', idem.onRoute);
          ws.addHook('preParsing', idem.preParsing);
          ws.addHook('preHandler', idem.preHandler);
          ws.addHook('onSend', idem.onSend);
          for (const m of modules) m.workspaceRoutes?.(ws, server);
        },
        { prefix: '/workspaces/:workspaceId' },
      );
    },
    { prefix: '/api/v1' },
  );

  for (const m of modules) await m.plugins?.(app, server);
  return app;
}
