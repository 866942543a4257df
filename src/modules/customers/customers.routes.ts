import { visibilityOf } from '../auth/roles.js';
import type { Deps } from '../context.js';
import { WorkspaceItemParams, WorkspaceParams, errorResponses } from '../../http/schemas.js';
import { contextOf, type App } from '../../http/types.js';
import { decodeCursor, encodeCursor } from '../../lib/cursor.js';
import { AddIdentityBody, CreateCustomerBody, Customer, CustomerDetail, CustomerPage, IdentityParams, ListCustomersQuery, UpdateCustomerBody } from './customers.schemas.js';
import { addIdentity, createCustomer, getCustomer, listCustomers, removeIdentity, updateCustomer } from './customers.service.js';

const tags = ['customers'];

export function customerRoutes(app: App, server: Deps): void {
  app.post(
    '/customers',
    {
      schema: {
        tags,
        operationId: 'createCustomer',
        summary: 'Create a customer',
        description: 'A customer needs at least one identity (email, phone or external id). An identity another customer of the workspace holds answers 409 `customers.identity_unavailable`.',
        params: WorkspaceParams,
        body: CreateCustomerBody,
        response: { 201: Customer, ...errorResponses(401, 403, 404, 409, 422) },
      },
    },
    async (request, reply) => reply.code(201).send(await createCustomer(contextOf(server, request), request.body)),
  );

  app.get(
    '/customers',
    {
      schema: {
        tags,
        operationId: 'listCustomers',
        summary: 'List customers, newest first',
        description:
          'With `q`, a search (name prefix, or an exact email, phone or external id), paced per user or API token like conversation search: 429 `search.rate_limited` with Retry-After. Filters: `kind` (holds an identity of that kind), `createdAfter`/`createdBefore`, `hasOpenConversation`. With `hasOpenConversation` a page may hold fewer items than `limit` while `nextCursor` is still set: follow it until it is null. A client viewer never receives `notes`.',
        params: WorkspaceParams,
        querystring: ListCustomersQuery,
        response: { 200: CustomerPage, ...errorResponses(401, 404, 422, 429) },
      },
    },
    async (request) => {
      const { cursor, limit = 50, ...filter } = request.query;
      const after = cursor ? (decodeCursor(cursor, ['timestamp', 'uuid']) as [string, string]) : undefined;
      const ctx = { ...contextOf(server, request), searchLimiter: server.searchLimiter };
      const { items, last } = await listCustomers(ctx, { ...filter, limit, after }, visibilityOf(request.workspace.role));
      return { items, nextCursor: last ? encodeCursor([last.createdAt, last.id]) : null };
    },
  );

  app.get(
    '/customers/:id',
    {
      schema: {
        tags,
        operationId: 'getCustomer',
        summary: 'A customer with identities, attributes, note and conversations',
        description: "The customer's conversations on every channel, most recently active first (up to 50). `notes` is the agents' internal note: a client viewer never receives it.",
        params: WorkspaceItemParams,
        response: { 200: CustomerDetail, ...errorResponses(401, 404, 422) },
      },
    },
    async (request) => getCustomer(contextOf(server, request), request.params.id, visibilityOf(request.workspace.role)),
  );

  app.patch(
    '/customers/:id',
    {
      schema: {
        tags,
        operationId: 'updateCustomer',
        summary: 'Update a customer',
        description:
          'Name, custom attributes and the internal note (`notes`, agents only; null clears it). `email`, `phone` and `externalId` replace the identity of that kind; to keep several, use the identity operations.',
        params: WorkspaceItemParams,
        body: UpdateCustomerBody,
        response: { 200: CustomerDetail, ...errorResponses(401, 403, 404, 409, 422) },
      },
    },
    async (request) => updateCustomer(contextOf(server, request), request.params.id, request.body),
  );

  app.post(
    '/customers/:id/identities',
    {
      schema: {
        tags,
        operationId: 'addCustomerIdentity',
        summary: 'Add an email address or phone number to a customer',
        description:
          'An email is stored in lower case; a phone in international form (`+44 20 7946 0958` is stored `+442079460958`). A malformed value is 422 `customers.invalid_email` or `customers.invalid_phone`; one another customer of the workspace holds is 409 `customers.identity_unavailable` (which names no one).',
        params: WorkspaceItemParams,
        body: AddIdentityBody,
        response: { 201: CustomerDetail, ...errorResponses(401, 403, 404, 409, 422) },
      },
    },
    async (request, reply) => reply.code(201).send(await addIdentity(contextOf(server, request), request.params.id, request.body)),
  );

  app.delete(
    '/customers/:id/identities/:identityId',
    {
      schema: {
        tags,
        operationId: 'removeCustomerIdentity',
        summary: 'Remove an identity from a customer',
        description: 'The customer keeps at least one identity: removing the last is 422 `customers.last_identity`. The address or number is then free for another customer.',
        params: IdentityParams,
        response: { 200: CustomerDetail, ...errorResponses(401, 403, 404, 422) },
      },
    },
    async (request) => removeIdentity(contextOf(server, request), request.params.id, request.params.identityId),
  );
}
