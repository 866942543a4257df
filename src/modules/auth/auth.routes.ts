import type { Deps } from '../context.js';
import { Type } from 'typebox';
import { SESSION_COOKIE } from '../../http/auth.js';
import { Email, Strict, Uuid, errorResponses } from '../../http/schemas.js';
import type { App } from '../../http/types.js';
import { commonErrors } from '../../lib/errors.js';
import { authErrors } from './auth.errors.js';
import { currentSession, dismissAlert, login, logout, mayCreateWorkspace } from './auth.service.js';
import { RoleSchema } from '../workspaces/workspaces.schemas.js';
import { passwordResetRoutes } from './auth.password-reset.routes.js';
import { profileRoutes } from './auth.profile.routes.js';
import { createWorkspace } from '../workspaces/workspaces.service.js';
import { workspaceSummary } from '../workspaces/workspaces.accounts.service.js';
import { Slug } from '../workspaces/workspaces.schemas.js';

const tags = ['auth'];
const SecurityAlert = Type.Object({
  id: Type.String(),
  kind: Type.Union([Type.Literal('password_guessing'), Type.Literal('password_reset'), Type.Literal('password_changed')]),
  message: Type.String({ description: 'what happened, in words to show the person' }),
  createdAt: Type.String({ format: 'date-time' }),
});

const SessionView = Type.Object({
  user: Type.Object({
    id: Type.String(),
    email: Type.String(),
    name: Type.String(),
    instanceAdmin: Type.Boolean({ description: 'may create workspaces whatever WORKSPACE_CREATION says' }),
  }),
  workspaces: Type.Array(Type.Object({ id: Type.String(), name: Type.String(), slug: Type.String(), role: RoleSchema })),
  csrfToken: Type.String({ description: 'send as X-CSRF-Token on cookie-authenticated writes' }),
  alerts: Type.Array(SecurityAlert, { description: 'security alerts about this account not yet dismissed, newest first' }),
});
const LoginBody = Strict({ email: Email, password: Type.String({ minLength: 1, maxLength: 256 }) });

export function authRoutes(app: App, server: Deps): void {
  passwordResetRoutes(app, server);
  profileRoutes(app, server);

  app.post(
    '/auth/login',
    {
      // public: signing in needs no session or token (the OpenAPI document says `security: []`).
      config: { secretAnswer: true, public: true },
      schema: { tags, summary: 'Sign in: sets the session cookie, returns the user, workspaces and CSRF token', body: LoginBody, response: { 200: SessionView, ...errorResponses(401, 422, 429) } },
    },
    async (request, reply) => {
      const { sessionToken, view } = await login(
        { pool: server.pool, clock: server.clock, throttle: server.throttle, sessionHours: server.config.sessionHours },
        { email: request.body.email, password: request.body.password, ip: request.ip },
      );
      reply.setCookie(SESSION_COOKIE, sessionToken, {
        path: '/',
        httpOnly: true,
        sameSite: 'lax',
        secure: server.config.secureCookies,
        maxAge: server.config.sessionHours * 3600,
      });
      return view;
    },
  );

  app.get(
    '/auth/session',
    {
      config: { secretAnswer: true },
      schema: { tags, summary: 'The signed-in user, workspaces and CSRF token', response: { 200: SessionView, ...errorResponses(401) } },
    },
    async (request) => {
      const token = request.auth?.kind === 'session' ? request.auth.sessionToken : null;
      const view = token ? await currentSession(server, token) : null;
      if (!view) throw request.cookies[SESSION_COOKIE] ? authErrors.sessionExpired() : commonErrors.unauthenticated();
      return view;
    },
  );

  app.post('/auth/logout', { schema: { tags, summary: 'Sign out', response: { 204: Type.Null(), ...errorResponses(403) } } }, async (request, reply) => {
    if (request.auth?.kind === 'session') {
      await logout(server, request.auth.sessionToken);
      server.resolver.forget(`s:${request.auth.sessionToken}`);
    }
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return reply.code(204).send(null);
  });

  app.get(
    '/auth/capabilities',
    {
      config: { public: true },
      schema: {
        tags,
        operationId: 'getCapabilities',
        summary: 'What this server can do for people signing in (whether it can send email)',
        description:
          'Public, so the sign-in pages can say before anyone tries it that a password cannot be reset by email, and the invitation screen that links are handed over rather than mailed. ' +
          'canSendEmail is true when the operator set the mail relay (EMAIL_VERIFICATION_SMTP_URL). It says nothing a request to the reset route would not.',
        response: {
          200: Type.Object(
            { canSendEmail: Type.Boolean({ description: 'invitations, password reset links, notifications and address confirmations are emailed' }) },
            { title: 'Capabilities', examples: [{ canSendEmail: false }] },
          ),
        },
      },
    },
    async () => ({ canSendEmail: server.config.systemMailSmtpUrl !== null }),
  );

  app.post(
    '/auth/alerts/:id/dismiss',
    {
      schema: {
        tags,
        operationId: 'dismissSecurityAlert',
        summary: 'Dismiss a security alert about your account',
        description: "The signed-in person marks one of their security alerts (listed in the session answer) as read. Another person's alert answers 404 like a missing one.",
        params: Type.Object({ id: Uuid }),
        response: { 204: Type.Null(), ...errorResponses(401, 404) },
      },
    },
    async (request, reply) => {
      if (request.auth?.kind !== 'session') throw commonErrors.unauthenticated('Sign in as a person to read your alerts.');
      await dismissAlert(server, request.auth.userId, request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/workspaces',
    {
      schema: { tags: ['workspaces'], summary: 'Workspaces you belong to (a token: its own)', response: { 200: Type.Object({ items: SessionView.properties.workspaces }), ...errorResponses(401) } },
    },
    async (request) => {
      if (!request.auth) throw commonErrors.unauthenticated();
      if (request.auth.kind === 'token') {
        const token = request.auth;
        const w = await workspaceSummary(server, token.workspaceId);
        return { items: w ? [{ ...w, role: token.role }] : [] };
      }
      return { items: (await currentSession(server, request.auth.sessionToken))?.workspaces ?? [] };
    },
  );

  app.post(
    '/workspaces',
    {
      schema: {
        tags: ['workspaces'],
        operationId: 'createWorkspace',
        summary: 'Create a workspace; you become its owner',
        description:
          'A signed-in person creates a workspace and becomes its owner. Who may is an instance setting (WORKSPACE_CREATION): by default only instance admins (the first owner is one); anyone else gets 403 workspaces.creation_not_allowed.',
        body: Strict({ name: Type.String({ minLength: 1, maxLength: 200 }), slug: Slug }, { examples: [{ name: 'Second brand', slug: 'second-brand' }] }),
        response: { 201: Type.Object({ id: Type.String(), name: Type.String(), slug: Type.String(), role: RoleSchema }), ...errorResponses(401, 403, 409, 422) },
      },
    },
    async (request, reply) => {
      if (request.auth?.kind !== 'session') throw commonErrors.unauthenticated('Sign in as a person to create a workspace.');
      // Creating a workspace makes its creator an owner, and owners invite people: an open door here was
      // the first step of a cross-tenant takeover (issue #8 H1), so the instance decides who may.
      if (!(await mayCreateWorkspace(server, request.auth.userId, server.config.workspaceCreation))) throw authErrors.workspaceCreationNotAllowed();
      const { id } = await createWorkspace(server, { name: request.body.name, slug: request.body.slug, ownerUserId: request.auth.userId });
      return reply.code(201).send({ id, name: request.body.name, slug: request.body.slug, role: 'owner' });
    },
  );
}
