import type { Deps } from '../context.js';
import type { AddressInfo } from 'node:net';
import { Type } from 'typebox';
import { publicUrl } from '../../config.js';
import { Email, Strict, errorResponses } from '../../http/schemas.js';
import type { App } from '../../http/types.js';
import { systemMailerFrom } from '../../lib/system-mail.js';
import { acceptPasswordReset, requestPasswordReset } from './auth.password-reset.service.js';

const tags = ['auth'];

const ResetRequested = Type.Object(
  { message: Type.String({ description: 'the same words for every email: whether an account uses it is never told' }) },
  { examples: [{ message: 'If an account uses this email, a link to choose a new password is on its way. It works once, for 1 hour.' }] },
);
const ResetDone = Type.Object({ email: Type.String({ description: 'the account whose password was set; sign in with it' }) }, { examples: [{ email: 'ada@example.com' }] });

/** Public: forgot password. The link is mailed through the operator's relay and opens /reset-password#token=… */
export function passwordResetRoutes(app: App, server: Deps): void {
  const baseUrl = () => publicUrl(server.config, (app.server.address() as AddressInfo | null)?.port ?? server.config.port);

  app.post(
    '/auth/password-resets',
    {
      config: { public: true },
      schema: {
        tags,
        operationId: 'requestPasswordReset',
        summary: 'Forgot password: mail a link to choose a new one',
        description:
          'Mails a single-use link (1 hour) to the address when an account uses it; a newer link replaces an older one. ' +
          'The answer (202) is the same whether or not an account uses the email. Throttled per email and per client address (429 auth.too_many_attempts). ' +
          'Without a mail relay (EMAIL_VERIFICATION_SMTP_URL) the server answers 503 auth.mail_not_configured.',
        body: Strict({ email: Email }, { examples: [{ email: 'ada@example.com' }] }),
        response: { 202: ResetRequested, ...errorResponses(422, 429, 503) },
      },
    },
    async (request, reply) => {
      const { message } = await requestPasswordReset(
        { pool: server.pool, clock: server.clock, throttle: server.throttle, log: server.log, mail: { mailer: systemMailerFrom(server.config, baseUrl()), publicUrl: baseUrl() } },
        { email: request.body.email, ip: request.ip },
      );
      return reply.code(202).send({ message });
    },
  );

  app.post(
    '/auth/password-resets/accept',
    {
      config: { public: true },
      schema: {
        tags,
        operationId: 'acceptPasswordReset',
        summary: 'Choose a new password with the mailed link',
        description:
          'The token is the part after #token= of the mailed link. Bad, used, replaced and expired links get one answer (400 auth.invalid_reset_link); ' +
          'client addresses that try many are throttled (429). A password too easy to guess answers 422 auth.weak_password. ' +
          'On success every session of the account ends, every API token it created is revoked, and the account gets a security alert; then sign in with the new password.',
        body: Strict(
          { token: Type.String({ minLength: 1, maxLength: 200, description: 'the token from the link (after #token=)' }), password: Type.String({ minLength: 1, maxLength: 256 }) },
          { examples: [{ token: 'qD8u0n3Yx2m6b0F1oQ9yH3nS5tV7wK2aL4cE6gI8jM0', password: 'correct horse battery staple' }] },
        ),
        response: { 200: ResetDone, ...errorResponses(400, 422, 429) },
      },
    },
    async (request) => {
      const done = await acceptPasswordReset(server, { token: request.body.token, password: request.body.password, ip: request.ip });
      // Sessions and tokens cached on this instance stop at once (other instances: within the cache's few seconds).
      server.resolver.forget('s:');
      server.resolver.forget('t:');
      return { email: done.email };
    },
  );
}
