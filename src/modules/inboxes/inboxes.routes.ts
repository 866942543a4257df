import type { Deps } from '../context.js';
import { WorkspaceItemParams, WorkspaceParams, errorResponses } from '../../http/schemas.js';
import { contextOf, type App } from '../../http/types.js';
import { CreateInboxBody, Inbox, InboxList, UpdateInboxBody } from './inboxes.schemas.js';
import { createInbox, getInbox, listInboxes, updateInbox } from './inboxes.service.js';

const tags = ['inboxes'];
const SETTINGS_NOTE = 'Admins and owners also get `settings` (server hosts, usernames and addresses; secrets masked); supervisors, agents and client viewers get the inbox without them.';

export function inboxRoutes(app: App, server: Deps): void {
  app.get(
    '/inboxes',
    {
      schema: {
        tags,
        operationId: 'listInboxes',
        summary: 'Inboxes (configured channels)',
        description: SETTINGS_NOTE,
        params: WorkspaceParams,
        response: { 200: InboxList, ...errorResponses(401, 404) },
      },
    },
    async (request) => listInboxes({ ...contextOf(server, request), channels: server.channels }, { role: request.workspace.role }),
  );
  app.get(
    '/inboxes/:id',
    { schema: { tags, operationId: 'getInbox', summary: 'One inbox', description: SETTINGS_NOTE, params: WorkspaceItemParams, response: { 200: Inbox, ...errorResponses(401, 404) } } },
    async (request) => getInbox({ ...contextOf(server, request), channels: server.channels }, request.params.id, { role: request.workspace.role }),
  );
  app.post(
    '/inboxes',
    {
      // The channel's server passwords stay out of an Idempotency-Key's fingerprint (SECURITY M6).
      config: { minRole: 'admin', idempotency: { secretFields: ['settings.imap.password', 'settings.smtp.password'] } },
      schema: { tags, summary: 'Create an inbox (admin)', params: WorkspaceParams, body: CreateInboxBody, response: { 201: Inbox, ...errorResponses(401, 403, 404, 409, 422) } },
    },
    async (request, reply) => reply.code(201).send(await createInbox({ ...contextOf(server, request), channels: server.channels, outbound: server.outbound }, request.body)),
  );
  app.patch(
    '/inboxes/:id',
    {
      config: { minRole: 'admin' },
      schema: {
        tags,
        summary: 'Rename an inbox or replace its settings (admin)',
        params: WorkspaceItemParams,
        body: UpdateInboxBody,
        response: { 200: Inbox, ...errorResponses(401, 403, 404, 409, 422) },
      },
    },
    async (request) => updateInbox({ ...contextOf(server, request), channels: server.channels, outbound: server.outbound }, request.params.id, request.body),
  );
}
