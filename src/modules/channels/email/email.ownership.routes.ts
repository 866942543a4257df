import type { AddressInfo } from 'node:net';
import { Type } from 'typebox';
import { publicUrl } from '../../../config.js';
import { Nullable, Strict, Timestamp, Uuid, errorResponses } from '../../../http/schemas.js';
import { contextOf, type App } from '../../../http/types.js';
import type { Deps } from '../../context.js';
import { confirmAddress, inboxOwnership, previewAddressConfirmation, sendAddressConfirmation, verifyDomain, type ConfirmationMailer } from './email.ownership.service.js';

const tags = ['email'];

const Claim = Type.Object({
  kind: Type.Union([Type.Literal('address'), Type.Literal('domain')], { description: 'an inbox address, or a catch-all domain' }),
  value: Type.String(),
  domain: Type.String({ description: 'the domain a DNS record proves it by' }),
  status: Type.Union([Type.Literal('pending'), Type.Literal('verified')], { description: 'pending: mail to it is refused like mail to an unknown address until it is proven' }),
  verifiedAt: Nullable(Timestamp),
  verifiedBy: Nullable(
    Type.Union([Type.Literal('existing'), Type.Literal('link'), Type.Literal('dns'), Type.Literal('operator')], {
      description: 'existing: listed before proofs were required; link: the confirmation email; dns: the TXT record; operator: set up on the server',
    }),
  ),
  confirmationSentAt: Nullable(Timestamp),
  confirmationExpiresAt: Nullable(Timestamp),
});

const Ownership = Type.Object(
  {
    confirmationEmail: Type.Boolean({ description: 'whether this server can send confirmation emails (EMAIL_VERIFICATION_SMTP_URL)' }),
    items: Type.Array(Claim),
    dnsRecords: Type.Array(
      Type.Object({
        domain: Type.String(),
        name: Type.String({ description: 'where to publish the TXT record (the domain itself works too)' }),
        value: Type.String({ description: 'the TXT record, exactly' }),
        pending: Type.Boolean({ description: 'whether something in this domain still waits for proof' }),
      }),
    ),
  },
  {
    examples: [
      {
        confirmationEmail: true,
        items: [
          {
            kind: 'address',
            value: 'support@acme.example',
            domain: 'acme.example',
            status: 'verified',
            verifiedAt: '2026-12-01T10:00:00.000Z',
            verifiedBy: 'link',
            confirmationSentAt: null,
            confirmationExpiresAt: null,
          },
          { kind: 'domain', value: 'help.acme.example', domain: 'help.acme.example', status: 'pending', verifiedAt: null, verifiedBy: null, confirmationSentAt: null, confirmationExpiresAt: null },
        ],
        dnsRecords: [{ domain: 'help.acme.example', name: '_rapport.help.acme.example', value: 'rapport-verification=Zm9vYmFyYmF6cXV4cXV1eA', pending: true }],
      },
    ],
  },
);

const Token = Type.String({ minLength: 1, maxLength: 200, description: 'the token from the link (after #token=)' });
const Confirmation = Type.Object({ address: Type.String(), workspaceName: Type.String(), inboxName: Type.String() });

export interface OwnershipRouteOptions {
  /** The relay mailer for a given public URL; null when EMAIL_VERIFICATION_SMTP_URL is unset. */
  mailer: (publicUrl: string) => ConfirmationMailer | null;
  ttlMs: number;
  perAddressPerDay: number;
}

/** Inside a workspace (admin): see which addresses are proven, mail a confirmation link, check a DNS record. */
export function ownershipRoutes(app: App, server: Deps, opts: OwnershipRouteOptions): void {
  const baseUrl = () => publicUrl(server.config, (app.server.address() as AddressInfo | null)?.port ?? server.config.port);
  const canEmail = () => opts.mailer(baseUrl()) !== null;

  app.get(
    '/inboxes/:id/email/ownership',
    {
      config: { minRole: 'admin' },
      schema: {
        tags,
        operationId: 'getInboxEmailOwnership',
        summary: 'Which addresses and catch-all domains of an email inbox are proven (admin)',
        description:
          'Mail reaches an inbox only through verified addresses and catch-all domains. Pending ones are proven by the confirmation link mailed to the address, or by publishing the listed TXT record on the domain.',
        params: Strict({ workspaceId: Uuid, id: Uuid }),
        response: { 200: Ownership, ...errorResponses(401, 403, 404) },
      },
    },
    async (request) => inboxOwnership({ ...contextOf(server, request), confirmationEmail: canEmail() }, request.params.id),
  );

  app.post(
    '/inboxes/:id/email/confirmations',
    {
      config: { minRole: 'admin' },
      schema: {
        tags,
        operationId: 'sendEmailAddressConfirmation',
        summary: 'Mail a confirmation link to a pending address of the inbox (admin); sending again replaces the link',
        description:
          "The link is sent through the server operator's relay, works once and expires. At most one per minute and a few per day per address and workspace. The answer is the same when nothing is mailed: past a daily cap per address across all workspaces, or when the address already receives mail in another workspace here (then only the DNS record proves it).",
        params: Strict({ workspaceId: Uuid, id: Uuid }),
        body: Strict({ address: Type.String({ minLength: 3, maxLength: 254 }) }, { examples: [{ address: 'support@acme.example' }] }),
        response: { 202: Type.Object({ address: Type.String(), sentAt: Timestamp, expiresAt: Timestamp }), ...errorResponses(401, 403, 404, 409, 422, 429, 502) },
      },
    },
    async (request, reply) => {
      const url = baseUrl();
      const confirm = { mailer: opts.mailer(url), publicUrl: url, ttlMs: opts.ttlMs, perAddressPerDay: opts.perAddressPerDay, log: request.log };
      return reply.code(202).send(await sendAddressConfirmation({ ...contextOf(server, request), confirm }, request.params.id, request.body));
    },
  );

  app.post(
    '/inboxes/:id/email/domain-verifications',
    {
      config: { minRole: 'admin' },
      schema: {
        tags,
        operationId: 'verifyEmailDomain',
        summary: "Check the DNS TXT record of a domain; when it is there, the inbox's pending addresses and catch-all in that domain become verified (admin)",
        description: 'Looks for the TXT record rapport-verification=<token> (see GET .../email/ownership) at _rapport.<domain> or at the domain itself.',
        params: Strict({ workspaceId: Uuid, id: Uuid }),
        body: Strict({ domain: Type.String({ minLength: 3, maxLength: 253 }) }, { examples: [{ domain: 'acme.example' }] }),
        response: { 200: Ownership, ...errorResponses(401, 403, 404, 422) },
      },
    },
    async (request) => verifyDomain({ ...contextOf(server, request), dns: server.dns, confirmationEmail: canEmail() }, request.params.id, request.body),
  );
}

/** Public: the person who reads the mailbox opens the link, sees who asks, and confirms. */
export function confirmationRoutes(app: App, server: Deps): void {
  app.post(
    '/api/v1/email/confirmations/preview',
    {
      config: { public: true },
      schema: {
        tags,
        operationId: 'previewEmailAddressConfirmation',
        summary: 'What a confirmation link is about: the address, and the workspace and inbox that ask for its mail',
        description: 'The token travels in the body, never in a URL, so it stays out of logs. An unknown, used, replaced or expired token answers one 404.',
        body: Strict({ token: Token }, { examples: [{ token: 'q3F0cmFwcG9ydC1jb25maXJtYXRpb24tdG9rZW4tZXhhbXBsZQ' }] }),
        response: { 200: Type.Object({ address: Type.String(), workspaceName: Type.String(), inboxName: Type.String(), expiresAt: Timestamp }), ...errorResponses(404, 422) },
      },
    },
    async (request) => previewAddressConfirmation(server, request.body.token),
  );

  app.post(
    '/api/v1/email/confirmations/accept',
    {
      config: { public: true },
      schema: {
        tags,
        operationId: 'confirmEmailAddress',
        summary: 'Confirm an address: its mail goes to the inbox that asked, from now on; the link then stops working',
        description: "Whoever holds the link proves they read the address's mailbox. Another workspace that had this address verified stops receiving its mail.",
        body: Strict({ token: Token }, { examples: [{ token: 'q3F0cmFwcG9ydC1jb25maXJtYXRpb24tdG9rZW4tZXhhbXBsZQ' }] }),
        response: { 200: Confirmation, ...errorResponses(404, 422) },
      },
    },
    async (request) => confirmAddress(server, request.body.token),
  );
}
