import { WorkspaceItemParams, WorkspaceParams, errorResponses } from '../../http/schemas.js';
import { workspaceDeps, type App, type ServerDeps } from '../../http/types.js';
import { CreatedToken, CreateTokenBody, CreateUserBody, Member, MemberList, TokenInfo, TokenList, Workspace } from './workspaces.schemas.js';
import { requireReauthentication } from '../auth/auth.service.js';
import { addMember, createToken, getWorkspace, listMembers, listTokens, revokeToken } from './workspaces.service.js';

/** Routes inside one workspace: the workspace itself, its people and its API tokens. */
export function workspaceRoutes(app: App, server: ServerDeps): void {
  app.get('', { schema: { tags: ['workspaces'], summary: 'This workspace and your role in it', params: WorkspaceParams, response: { 200: Workspace, ...errorResponses(401, 404) } } },
    async (request) => getWorkspace(workspaceDeps(server, request), request.workspace.role));

  app.get('/users', { schema: { tags: ['users'], summary: 'Members of the workspace', params: WorkspaceParams, response: { 200: MemberList, ...errorResponses(401, 404) } } },
    async (request) => listMembers(workspaceDeps(server, request)));

  app.post('/users', {
    config: { minRole: 'admin' },
    schema: {
      tags: ['users'], summary: 'Add a person (admin); an existing account keeps its password',
      params: WorkspaceParams, body: CreateUserBody, response: { 201: Member, ...errorResponses(401, 403, 404, 409, 422) },
    },
  }, async (request, reply) => {
    const member = await addMember(workspaceDeps(server, request), request.workspace.role, request.body);
    server.resolver.forget(`m:${request.workspace.id}:`);
    return reply.code(201).send(member);
  });

  app.get('/tokens', { config: { minRole: 'admin' }, schema: { tags: ['tokens'], summary: 'API tokens (admin)', params: WorkspaceParams, response: { 200: TokenList, ...errorResponses(401, 403, 404) } } },
    async (request) => listTokens(workspaceDeps(server, request)));

  app.post('/tokens', {
    // The answer holds the token (shown once): an Idempotency-Key never stores it, and the password
    // never enters the key's fingerprint (SECURITY M6).
    config: { minRole: 'admin', idempotency: { replay: false, secretFields: ['currentPassword'] } },
    schema: { tags: ['tokens'], summary: 'Create an API token (admin, signed in, with your password again); the token is shown once', params: WorkspaceParams, body: CreateTokenBody, response: { 201: CreatedToken, ...errorResponses(401, 403, 404, 422) } },
  }, async (request, reply) => {
    await requireReauthentication(server, request.auth, request.body.currentPassword);
    return reply.code(201).send(await createToken(workspaceDeps(server, request), request.workspace.role, { name: request.body.name, role: request.body.role }));
  });

  app.delete('/tokens/:id', {
    config: { minRole: 'admin' },
    schema: { tags: ['tokens'], summary: 'Revoke an API token (admin)', params: WorkspaceItemParams, response: { 200: TokenInfo, ...errorResponses(401, 403, 404) } },
  }, async (request) => {
    const token = await revokeToken(workspaceDeps(server, request), request.params.id);
    server.resolver.forget('t:');
    return token;
  });
}
