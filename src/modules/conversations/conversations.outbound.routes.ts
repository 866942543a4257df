import type { Deps } from '../context.js';
import { WorkspaceParams, errorResponses } from '../../http/schemas.js';
import { contextOf, type App } from '../../http/types.js';
import { StartOutboundBody } from './conversations.outbound.schemas.js';
import { startOutboundConversation } from './conversations.outbound.service.js';
import { Conversation } from './conversations.schemas.js';

export function outboundConversationRoutes(app: App, server: Deps): void {
  app.post(
    '/conversations/outbound',
    {
      schema: {
        tags: ['conversations'],
        operationId: 'startOutboundConversation',
        summary: 'Start a conversation by writing to a customer (email)',
        description:
          "Opens a conversation in an email inbox with the agent's message as its first reply, sent like any reply (its delivery shows on the message as `metadata.delivery`). `to` must be one of the customer's email addresses: 422 `conversations.not_customers_address` otherwise; an inbox that cannot send email is 422 `conversations.inbox_cannot_email`; an unknown customer or inbox (or another workspace's) is 404.",
        params: WorkspaceParams,
        body: StartOutboundBody,
        response: { 201: Conversation, ...errorResponses(401, 403, 404, 422) },
      },
    },
    async (request, reply) => reply.code(201).send(await startOutboundConversation({ ...contextOf(server, request), channels: server.channels }, request.body)),
  );
}
