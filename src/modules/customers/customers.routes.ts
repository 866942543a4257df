import { visibilityOf } from '../auth/roles.js';
import type { Deps } from '../context.js';
import { WorkspaceItemParams, WorkspaceParams, errorResponses } from '../../http/schemas.js';
import { contextOf, type App } from '../../http/types.js';
import { decodeCursor, encodeCursor } from '../../lib/cursor.js';
import { CreateCustomerBody, Customer, CustomerDetail, CustomerPage, ListCustomersQuery, UpdateCustomerBody } from './customers.schemas.js';
import { createCustomer, getCustomer, listCustomers, updateCustomer } from './customers.service.js';

const tags = ['customers'];

export function customerRoutes(app: App, server: Deps): void {
  app.post(
    '/customers',
    {
      schema: { tags, summary: 'Create a customer', params: WorkspaceParams, body: CreateCustomerBody, response: { 201: Customer, ...errorResponses(401, 403, 404, 409, 422) } },
    },
    async (request, reply) => reply.code(201).send(await createCustomer(contextOf(server, request), request.body)),
  );

  app.get(
    '/customers',
    {
      schema: {
        tags,
        summary: 'List customers, newest first',
        description: 'With `q`, a search (name prefix, or an exact email, phone or external id), paced per user or API token like conversation search: 429 `search.rate_limited` with Retry-After.',
        params: WorkspaceParams,
        querystring: ListCustomersQuery,
        response: { 200: CustomerPage, ...errorResponses(401, 404, 422, 429) },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 50;
      const after = request.query.cursor ? (decodeCursor(request.query.cursor, ['timestamp', 'uuid']) as [string, string]) : undefined;
      const items = await listCustomers({ ...contextOf(server, request), searchLimiter: server.searchLimiter }, { limit, after, q: request.query.q });
      const last = items.length === limit ? items[items.length - 1] : undefined;
      return { items, nextCursor: last ? encodeCursor([last.createdAt, last.id]) : null };
    },
  );

  app.get(
    '/customers/:id',
    {
      schema: { tags, summary: 'A customer with identities, attributes and conversations', params: WorkspaceItemParams, response: { 200: CustomerDetail, ...errorResponses(401, 404, 422) } },
    },
    async (request) => getCustomer(contextOf(server, request), request.params.id, visibilityOf(request.workspace.role)),
  );

  app.patch(
    '/customers/:id',
    {
      schema: { tags, summary: 'Update a customer', params: WorkspaceItemParams, body: UpdateCustomerBody, response: { 200: CustomerDetail, ...errorResponses(401, 403, 404, 409, 422) } },
    },
    async (request) => updateCustomer(contextOf(server, request), request.params.id, request.body),
  );
}
