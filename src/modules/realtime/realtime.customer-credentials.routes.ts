import { Type } from 'typebox';
import { Strict, Timestamp, Uuid, WorkspaceItemParams, errorResponses } from '../../http/schemas.js';
import { contextOf, type App } from '../../http/types.js';
import type { Deps } from '../context.js';
import { CUSTOMER_CREDENTIAL_TTL, mintCustomerCredential, type CustomerCredentials } from './realtime.customer-credentials.js';

export const CreateCustomerRealtimeTokenBody = Strict(
  {
    ttlSeconds: Type.Optional(Type.Integer({ minimum: 60, maximum: CUSTOMER_CREDENTIAL_TTL.maxSeconds, description: `how long it is valid; default ${CUSTOMER_CREDENTIAL_TTL.defaultSeconds}` })),
  },
  { examples: [{ ttlSeconds: 900 }] },
);
export const CustomerRealtimeToken = Type.Object({
  token: Type.String({ description: "offer it as the WebSocket's second subprotocol: new WebSocket(url, ['rapport-customer', token])" }),
  expiresAt: Timestamp,
  workspaceId: Uuid,
  customerId: Uuid,
});

/** POST /customers/:id/realtime-tokens: a customer credential for the realtime WebSocket, minted by an agent or an API token. */
export function customerCredentialRoutes(app: App, server: Deps, credentials: Promise<CustomerCredentials>): void {
  app.post(
    '/customers/:id/realtime-tokens',
    {
      // The answer is a credential: an Idempotency-Key never stores it.
      config: { minRole: 'agent', idempotency: { replay: false } },
      schema: {
        tags: ['realtime'],
        operationId: 'createCustomerRealtimeToken',
        summary: 'A signed credential with which this customer connects to the realtime WebSocket',
        description:
          "The customer's socket (GET /api/v1/realtime?workspaceId=, subprotocols ['rapport-customer', token]) receives only the public events of the customer's own conversations: " +
          'opened, status changes and customer-visible messages; never notes, assignments, tags or internal fields. The credential is signed, not stored: it cannot be revoked, so keep it short.',
        params: WorkspaceItemParams,
        body: CreateCustomerRealtimeTokenBody,
        response: { 201: CustomerRealtimeToken, ...errorResponses(401, 403, 404, 422) },
      },
    },
    async (request, reply) => reply.code(201).send(await mintCustomerCredential(contextOf(server, request), await credentials, request.params.id, request.body.ttlSeconds)),
  );
}
