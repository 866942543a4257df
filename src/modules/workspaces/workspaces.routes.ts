import type { Deps } from '../context.js';
import { WorkspaceItemParams, WorkspaceParams, errorResponses } from '../../http/schemas.js';
import { contextOf, type App } from '../../http/types.js';
import { CreatedToken, CreateTokenBody, MemberList, TokenInfo, TokenList, Workspace } from './workspaces.schemas.js';
import { visibilityOf } from '../auth/roles.js';
import { requireReauthentication } from '../auth/auth.service.js';
import { createToken, getWorkspace, listMembers, listTokens, revokeToken } from './workspaces.service.js';

/** Routes inside one workspace: the workspace itself, its people and its API tokens. */
export function workspaceRoutes(app: App, server: Deps): void {
  app.get(
    '',
    { schema: { tags: ['workspaces'], summary: 'This workspace and your role in it', params: WorkspaceParams, response: { 200: Workspace, ...errorResponses(401, 404) } } },
    async (request) => getWorkspace(contextOf(server, request), request.workspace.role),
  );

  app.get('/users', { schema: { tags: ['users'], summary: 'Members of the workspace', params: WorkspaceParams, response: { 200: MemberList, ...errorResponses(401, 404) } } }, async (request) =>
    listMembers(contextOf(server, request), visibilityOf(request.workspace.role)),
  );

  app.get(
    '/tokens',
    { config: { minRole: 'admin' }, schema: { tags: ['tokens'], summary: 'API tokens (admin)', params: WorkspaceParams, response: { 200: TokenList, ...errorResponses(401, 403, 404) } } },
    async (request) => listTokens(contextOf(server, request)),
  );

  app.post(
    '/tokens',
    {
      // The answer holds the token (shown once): an Idempotency-Key never stores it, and the password
      // never enters the key's fingerprint (SECURITY M6).
      config: { minRole: 'admin', idempotency: { replay: false, secretFields: ['currentPassword'] } },
      schema: {
        tags: ['tokens'],
        operationId: 'createApiToken',
        summary: 'Create an API token (admin, signed in, with your password again); the token is shown once',
        description:
          "Needs a signed-in admin and their password again (a token cannot mint tokens). Wrong passwords count like failed sign-ins and are throttled (429). The token acts with its role, never above its creator's current role, and is revoked when its creator leaves the workspace.",
        params: WorkspaceParams,
        body: CreateTokenBody,
        response: { 201: CreatedToken, ...errorResponses(401, 403, 404, 422, 429) },
      },
    },
    async (request, reply) => {
      await requireReauthentication(server, request.auth, request.body.currentPassword, request.ip);
      return reply.code(201).send(await createToken(contextOf(server, request), request.workspace.role, { name: request.body.name, role: request.body.role }));
    },
  );

  app.delete(
    '/tokens/:id',
    {
      config: { minRole: 'admin' },
      schema: { tags: ['tokens'], summary: 'Revoke an API token (admin)', params: WorkspaceItemParams, response: { 200: TokenInfo, ...errorResponses(401, 403, 404) } },
    },
    async (request) => {
      const token = await revokeToken(contextOf(server, request), request.params.id);
      server.resolver.forget('t:');
      return token;
    },
  );
}
