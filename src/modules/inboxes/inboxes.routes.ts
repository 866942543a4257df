import { WorkspaceItemParams, WorkspaceParams, errorResponses } from '../../http/schemas.js';
import { workspaceDeps, type App, type ServerDeps } from '../../http/types.js';
import { CreateInboxBody, Inbox, InboxList, UpdateInboxBody } from './inboxes.schemas.js';
import { createInbox, getInbox, listInboxes, updateInbox } from './inboxes.service.js';

const tags = ['inboxes'];

export function inboxRoutes(app: App, server: ServerDeps): void {
  app.get('/inboxes', { schema: { tags, summary: 'Inboxes (configured channels)', params: WorkspaceParams, response: { 200: InboxList, ...errorResponses(401, 404) } } },
    async (request) => listInboxes({ ...workspaceDeps(server, request), channels: server.channels }));
  app.get('/inboxes/:id', { schema: { tags, summary: 'One inbox', params: WorkspaceItemParams, response: { 200: Inbox, ...errorResponses(401, 404) } } },
    async (request) => getInbox({ ...workspaceDeps(server, request), channels: server.channels }, request.params.id));
  app.post('/inboxes', {
    // The channel's server passwords stay out of an Idempotency-Key's fingerprint (SECURITY M6).
    config: { minRole: 'admin', idempotency: { secretFields: ['settings.imap.password', 'settings.smtp.password'] } },
    schema: { tags, summary: 'Create an inbox (admin)', params: WorkspaceParams, body: CreateInboxBody, response: { 201: Inbox, ...errorResponses(401, 403, 404, 422) } },
  }, async (request, reply) => reply.code(201).send(await createInbox({ ...workspaceDeps(server, request), channels: server.channels, outbound: server.outbound }, request.body)));
  app.patch('/inboxes/:id', {
    config: { minRole: 'admin' },
    schema: { tags, summary: 'Rename an inbox or replace its settings (admin)', params: WorkspaceItemParams, body: UpdateInboxBody, response: { 200: Inbox, ...errorResponses(401, 403, 404, 409, 422) } },
  }, async (request) => updateInbox({ ...workspaceDeps(server, request), channels: server.channels, outbound: server.outbound }, request.params.id, request.body));
}
