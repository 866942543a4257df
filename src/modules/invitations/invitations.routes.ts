import type { Deps } from '../context.js';
import type { FastifyRequest } from 'fastify';
import type { AddressInfo } from 'node:net';
import type { Role } from '../auth/roles.js';
import { Type } from 'typebox';
import { publicUrl } from '../../config.js';
import { systemMailerFrom } from '../../lib/system-mail.js';
import { WorkspaceItemParams, WorkspaceParams, errorResponses } from '../../http/schemas.js';
import { contextOf, type App } from '../../http/types.js';
import { AcceptedInvitation, AcceptInvitationBody, AddUserBody, CreatedInvitation, CreateInvitationBody, InvitationList, InvitationPreview, PreviewInvitationBody } from './invitations.schemas.js';
import { acceptInvitation, createInvitation, listInvitations, previewInvitation, revokeInvitation } from './invitations.service.js';

const tags = ['invitations'];

/** Inside a workspace: admins invite, list and revoke. */
export function invitationRoutes(app: App, server: Deps): void {
  const invite = async (request: FastifyRequest, body: { email: string; role: Role }) => {
    const port = (app.server.address() as AddressInfo | null)?.port ?? server.config.port;
    const base = publicUrl(server.config, port);
    const deps = { ...contextOf(server, request), mail: { mailer: systemMailerFrom(server.config, base), publicUrl: base, log: server.log } };
    // The mail leaves after the commit; the answer does not wait for the relay.
    const { invitation } = await createInvitation(deps, request.workspace.role, { email: body.email, role: body.role });
    return invitation;
  };
  const delivery =
    "With the server's mail relay set (EMAIL_VERIFICATION_SMTP_URL), the link is mailed to the invited email only and the answer holds no link (delivery: emailed), " +
    'so no admin can accept an invitation for an address they do not read. Without a relay, the answer holds the accept link once (delivery: link; token in the fragment) for the admin to pass on privately.';
  // Without a relay both answer the accept link (shown once): an Idempotency-Key never stores it (SECURITY M6).
  app.post(
    '/invitations',
    {
      config: { minRole: 'admin', idempotency: { replay: false } },
      schema: {
        tags,
        operationId: 'createInvitation',
        summary: 'Invite someone by email with a role (admin); the link is mailed (or, without a mail relay, shown once) and works for 72 hours, once',
        description: `${delivery} The answer says nothing about whether the email already has an account.`,
        params: WorkspaceParams,
        body: CreateInvitationBody,
        response: { 201: CreatedInvitation, ...errorResponses(401, 403, 404, 409, 422) },
      },
    },
    async (request, reply) => reply.code(201).send(await invite(request, request.body)),
  );
  app.post(
    '/users',
    {
      config: { minRole: 'admin', idempotency: { replay: false } },
      schema: {
        tags: ['users'],
        operationId: 'addUser',
        summary: 'Add a person (admin): an invitation to their email, as POST /invitations',
        description:
          'No workspace sets or learns the password of an account: adding a person makes an invitation whose link the person accepts (a new email chooses its password; an existing account accepts while signed in). A password in the body is refused (422). ' +
          delivery,
        params: WorkspaceParams,
        body: AddUserBody,
        response: { 201: CreatedInvitation, ...errorResponses(401, 403, 404, 409, 422) },
      },
    },
    async (request, reply) => reply.code(201).send(await invite(request, request.body)),
  );
  app.get(
    '/invitations',
    {
      config: { minRole: 'admin' },
      schema: { tags, summary: 'Pending invitations (admin)', params: WorkspaceParams, response: { 200: InvitationList, ...errorResponses(401, 403, 404) } },
    },
    async (request) => listInvitations(contextOf(server, request)),
  );

  app.delete(
    '/invitations/:id',
    {
      config: { minRole: 'admin' },
      schema: { tags, summary: 'Revoke a pending invitation (admin)', params: WorkspaceItemParams, response: { 204: Type.Null(), ...errorResponses(401, 403, 404) } },
    },
    async (request, reply) => {
      await revokeInvitation(contextOf(server, request), request.params.id);
      return reply.code(204).send(null);
    },
  );
}

/** Public: whoever holds the link accepts it (signed in, when the email already has an account). */
export function acceptInvitationRoute(app: App, server: Deps): void {
  app.post(
    '/invitations/preview',
    {
      config: { public: true },
      schema: {
        tags,
        operationId: 'previewInvitation',
        summary: 'What an invitation link opens: the workspace, the invited email and the role',
        description:
          'The accept page shows it before the person accepts. A POST so the token travels in the body, never in a URL or a log. ' +
          'Bad, used, revoked and expired links get one answer (400 invitations.invalid_token); addresses that try many are throttled (429). ' +
          'It never says whether the email has an account.',
        body: PreviewInvitationBody,
        response: { 200: InvitationPreview, ...errorResponses(400, 422, 429) },
      },
    },
    async (request) => previewInvitation(server, { token: request.body.token, ip: request.ip }),
  );

  app.post(
    '/invitations/accept',
    {
      config: { public: true },
      schema: {
        tags,
        operationId: 'acceptInvitation',
        summary: 'Accept an invitation: signed in as the invited email, join; otherwise give a name and a password',
        description:
          'Bad, used, revoked and expired links get one answer (400 invitations.invalid_token); addresses that try many are throttled (429). ' +
          'Not signed in, the answer is the same whether or not the email has an account: "sign in to continue" (next: sign_in). ' +
          'A new email gets its account with this password (422 auth.weak_password when it is too easy to guess); an existing account joins only with its own password.',
        body: AcceptInvitationBody,
        response: { 200: AcceptedInvitation, ...errorResponses(400, 401, 403, 409, 422, 429) },
      },
    },
    async (request) => {
      const userId = request.auth?.kind === 'session' ? request.auth.userId : null;
      const accepted = await acceptInvitation(server, { userId, ip: request.ip }, request.body);
      server.resolver.forget(`m:${accepted.workspace.id}:`);
      return accepted;
    },
  );
}
