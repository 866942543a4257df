import type { AddressInfo } from 'node:net';
import { Type } from 'typebox';
import { publicUrl } from '../../config.js';
import { WorkspaceItemParams, WorkspaceParams, errorResponses } from '../../http/schemas.js';
import { workspaceDeps, type App, type ServerDeps } from '../../http/types.js';
import { AcceptedInvitation, AcceptInvitationBody, CreatedInvitation, CreateInvitationBody, InvitationList } from './invitations.schemas.js';
import { acceptInvitation, createInvitation, listInvitations, revokeInvitation } from './invitations.service.js';

const tags = ['invitations'];

/** Inside a workspace: admins invite, list and revoke. */
export function invitationRoutes(app: App, server: ServerDeps): void {
  // Both answer the accept link (shown once): an Idempotency-Key never stores it (SECURITY M6).
  app.post('/invitations', {
    config: { minRole: 'admin', idempotency: { replay: false } },
    schema: {
      tags, summary: 'Invite someone by email with a role (admin); the link is shown once and works for 72 hours, once',
      params: WorkspaceParams, body: CreateInvitationBody, response: { 201: CreatedInvitation, ...errorResponses(401, 403, 404, 409, 422) },
    },
  }, async (request, reply) => {
    const port = (app.server.address() as AddressInfo | null)?.port ?? server.config.port;
    const deps = { ...workspaceDeps(server, request), publicUrl: publicUrl(server.config, port) };
    return reply.code(201).send(await createInvitation(deps, request.workspace.role, request.body));
  });

  app.get('/invitations', {
    config: { minRole: 'admin' },
    schema: { tags, summary: 'Pending invitations (admin)', params: WorkspaceParams, response: { 200: InvitationList, ...errorResponses(401, 403, 404) } },
  }, async (request) => listInvitations(workspaceDeps(server, request)));

  app.delete('/invitations/:id', {
    config: { minRole: 'admin' },
    schema: { tags, summary: 'Revoke a pending invitation (admin)', params: WorkspaceItemParams, response: { 204: Type.Null(), ...errorResponses(401, 403, 404) } },
  }, async (request, reply) => {
    await revokeInvitation(workspaceDeps(server, request), request.params.id);
    return reply.code(204).send(null);
  });
}

/** Public: whoever holds the link accepts it (signed in, when the email already has an account). */
export function acceptInvitationRoute(app: App, server: ServerDeps): void {
  app.post('/api/v1/invitations/accept', {
    config: { public: true },
    schema: {
      tags, summary: 'Accept an invitation: creates the account (name, password) or, signed in as the invited email, joins with it',
      body: AcceptInvitationBody, response: { 200: AcceptedInvitation, ...errorResponses(400, 401, 403, 409, 422) },
    },
  }, async (request) => {
    const signedIn = request.auth?.kind === 'session' ? request.auth.userId : null;
    const accepted = await acceptInvitation(server, signedIn, request.body);
    server.resolver.forget(`m:${accepted.workspace.id}:${accepted.user.id}`);
    return accepted;
  });
}
