import type { AddressInfo } from 'node:net';
import { Type } from 'typebox';
import { publicUrl } from '../../../config.js';
import { Strict, Uuid, errorResponses } from '../../../http/schemas.js';
import { contextOf, type App } from '../../../http/types.js';
import type { Deps } from '../../context.js';
import { ConnectionTestLimiter, receivingInstructions, sendSmtpTest, testImapConnection } from './email.connection-test.service.js';

const tags = ['email'];
const Params = Strict({ workspaceId: Uuid, id: Uuid });
const Settings = (what: string) =>
  Type.Optional(
    Type.Record(Type.String({ maxLength: 64 }), Type.Any(), {
      maxProperties: 20,
      description: `${what} settings being edited (not saved) to test instead of the stored ones; a password sent back as "********" is the stored one`,
    }),
  );

export interface ConnectionTestOptions {
  /** Connection and greeting timeout of a test (EMAIL_SMTP_TIMEOUT_MS, at most 15 s: a person waits). */
  timeoutMs: number;
  /** The port Rapport's inbound SMTP listens on, and how often IMAP mailboxes are polled. */
  smtpPort: () => number;
  imapPollSeconds: number;
  /** Tests one workspace may run per hour (EMAIL_CONNECTION_TESTS_PER_HOUR), a third of them at once. */
  testsPerHour: number;
}

/** The inbox settings screen's checks (admin): send a test email, test the IMAP sign-in, where to point mail. */
export function connectionTestRoutes(app: App, server: Deps, opts: ConnectionTestOptions): void {
  // A third of the hour's tests at once (10 by default): an admin trying a few ports in a row is not slowed.
  const limiter = new ConnectionTestLimiter({ perHour: opts.testsPerHour, burst: Math.max(1, Math.ceil(opts.testsPerHour / 3)) });
  const ctxOf = (request: Parameters<typeof contextOf>[1]) => ({ ...contextOf(server, request), outbound: server.outbound, log: server.log, timeoutMs: opts.timeoutMs, limiter });

  app.post(
    '/inboxes/:id/email/smtp-test',
    {
      // The password stays out of the Idempotency-Key fingerprint (M6), and a test runs every time: never answered from the store.
      config: { minRole: 'admin', idempotency: { replay: false, secretFields: ['smtp.password'] } },
      schema: {
        tags,
        operationId: 'sendInboxSmtpTest',
        summary: "Send a test email through the inbox's SMTP server (admin)",
        description:
          'Sends a short test email to `to` the way replies go: the host is checked and pinned by the outbound guard (loopback, private and metadata addresses are refused unless OUTBOUND_ALLOWED_NETWORKS lists them), with the TLS mode and sign-in of the settings. Tests the stored settings, or `smtp` as being edited. A failure says what went wrong: email.server_unreachable, email.auth_failed, email.tls_failed, email.test_rejected. Paced per workspace (EMAIL_CONNECTION_TESTS_PER_HOUR, with Test connection): email.tests_throttled (429).',
        params: Params,
        body: Strict(
          { to: Type.String({ minLength: 3, maxLength: 254, description: 'where to send the test' }), smtp: Settings('SMTP') },
          {
            examples: [{ to: 'me@acme.example', smtp: { host: 'smtp.acme.example', port: 587, tls: 'starttls', user: 'support@acme.example', password: '********' } }],
          },
        ),
        response: {
          200: Type.Object({ ok: Type.Literal(true), sentTo: Type.String() }, { examples: [{ ok: true, sentTo: 'me@acme.example' }] }),
          ...errorResponses(401, 403, 404, 422, 429),
        },
      },
    },
    async (request) => sendSmtpTest(ctxOf(request), request.params.id, request.body),
  );

  app.post(
    '/inboxes/:id/email/imap-test',
    {
      config: { minRole: 'admin', idempotency: { replay: false, secretFields: ['imap.password'] } },
      schema: {
        tags,
        operationId: 'testInboxImapConnection',
        summary: "Connect to the inbox's IMAP server, sign in and open its folder (admin)",
        description:
          'Connects through the outbound guard like the poller, signs in and opens the folder read-only; nothing is fetched or marked. Tests the stored settings, or `imap` as being edited. A failure says what went wrong: email.server_unreachable, email.auth_failed, email.tls_failed, email.mailbox_missing.',
        params: Params,
        body: Strict({ imap: Settings('IMAP') }, { examples: [{ imap: { host: 'imap.acme.example', port: 993, tls: 'implicit', user: 'support@acme.example', password: '********' } }] }),
        response: {
          200: Type.Object(
            { ok: Type.Literal(true), mailbox: Type.String(), messages: Type.Integer({ description: 'messages in the folder now' }) },
            { examples: [{ ok: true, mailbox: 'INBOX', messages: 12 }] },
          ),
          ...errorResponses(401, 403, 404, 422, 429),
        },
      },
    },
    async (request) => testImapConnection(ctxOf(request), request.params.id, request.body),
  );

  app.get(
    '/inboxes/:id/email/receiving',
    {
      config: { minRole: 'admin' },
      schema: {
        tags,
        operationId: 'getInboxReceivingInstructions',
        summary: "Where to point the inbox's mail, with this server's values (admin)",
        description: "MX records naming this server for each of the inbox's domains (and the port its SMTP listens on), the address to forward to, or IMAP polling instead.",
        params: Params,
        response: {
          200: Type.Object(
            {
              mx: Type.Object({
                host: Type.String({ description: "this server's host name (PUBLIC_URL)" }),
                smtpPort: Type.Integer({ description: 'the port Rapport’s SMTP listens on (SMTP_PORT); MX delivery uses port 25, so forward 25 to it when they differ' }),
                records: Type.Array(Type.Object({ domain: Type.String(), type: Type.Literal('MX'), priority: Type.Integer(), value: Type.String() })),
              }),
              forwardTo: Type.String({ description: 'the address to forward an existing mailbox to' }),
              imap: Type.Object({ configured: Type.Boolean(), pollSeconds: Type.Integer() }),
            },
            {
              examples: [
                {
                  mx: { host: 'rapport.acme.example', smtpPort: 25, records: [{ domain: 'acme.example', type: 'MX', priority: 10, value: 'rapport.acme.example' }] },
                  forwardTo: 'support@acme.example',
                  imap: { configured: false, pollSeconds: 60 },
                },
              ],
            },
          ),
          ...errorResponses(401, 403, 404),
        },
      },
    },
    async (request) => {
      const mxHost = new URL(publicUrl(server.config, (app.server.address() as AddressInfo | null)?.port ?? server.config.port)).hostname;
      return receivingInstructions(contextOf(server, request), request.params.id, { mxHost, smtpPort: opts.smtpPort(), imapPollSeconds: opts.imapPollSeconds });
    },
  );
}
