import { Type } from 'typebox';
import type { Deps } from '../context.js';
import { WorkspaceItemParams, WorkspaceParams, errorResponses } from '../../http/schemas.js';
import { contextOf, type App } from '../../http/types.js';
import { CreateInboxBody, Inbox, InboxList, UpdateInboxBody } from './inboxes.schemas.js';
import { createInbox, deleteInbox, getInbox, listInboxes, setInboxDisabled, updateInbox } from './inboxes.service.js';

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
      schema: {
        tags,
        operationId: 'createInbox',
        summary: 'Create an inbox (admin)',
        params: WorkspaceParams,
        body: CreateInboxBody,
        response: { 201: Inbox, ...errorResponses(401, 403, 404, 409, 422) },
      },
    },
    async (request, reply) => reply.code(201).send(await createInbox({ ...contextOf(server, request), channels: server.channels, outbound: server.outbound }, request.body)),
  );
  app.patch(
    '/inboxes/:id',
    {
      config: { minRole: 'admin' },
      schema: {
        tags,
        operationId: 'updateInbox',
        summary: 'Rename an inbox or replace its settings (admin)',
        description:
          'The settings replace the whole object and are checked by the channel. A secret sent back as the mask ("********") keeps the stored secret at that path, so a form can send back what it read; a mask with nothing stored behind it is refused (422).',
        params: WorkspaceItemParams,
        body: UpdateInboxBody,
        response: { 200: Inbox, ...errorResponses(401, 403, 404, 409, 422) },
      },
    },
    async (request) => updateInbox({ ...contextOf(server, request), channels: server.channels, outbound: server.outbound }, request.params.id, request.body),
  );
  for (const disabled of [true, false]) {
    app.post(
      `/inboxes/:id/${disabled ? 'disable' : 'enable'}`,
      {
        config: { minRole: 'admin' },
        schema: {
          tags,
          operationId: disabled ? 'disableInbox' : 'enableInbox',
          summary: disabled ? 'Disable an inbox (admin)' : 'Enable a disabled inbox again (admin)',
          description: disabled
            ? 'A disabled inbox takes no new mail (its addresses answer like unknown ones, its IMAP mailbox is not polled, webhooks find no inbox) and sends no reply (inboxes.disabled); its conversations stay, readable and searchable. The workspace’s API inbox cannot be disabled.'
            : 'New mail is taken and replies are sent again; mail left on an IMAP server meanwhile is fetched at the next poll.',
          params: WorkspaceItemParams,
          response: { 200: Inbox, ...errorResponses(401, 403, 404, 409) },
        },
      },
      async (request) => setInboxDisabled({ ...contextOf(server, request), channels: server.channels }, request.params.id, disabled),
    );
  }
  app.delete(
    '/inboxes/:id',
    {
      config: { minRole: 'admin' },
      schema: {
        tags,
        operationId: 'deleteInbox',
        summary: 'Delete an inbox that holds no conversation (admin)',
        description:
          'Deletes the inbox with its settings, addresses and channel records. An inbox that holds any conversation is refused with inboxes.has_conversations (409): a help desk keeps its customers’ history, so such an inbox is disabled instead.',
        params: WorkspaceItemParams,
        response: { 204: Type.Null({ description: 'deleted' }), ...errorResponses(401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      await deleteInbox(contextOf(server, request), request.params.id);
      return reply.code(204).send(null);
    },
  );
}
