import { Type } from 'typebox';
import { Strict, Uuid, errorResponses } from '../../http/schemas.js';
import { contextOf, type App } from '../../http/types.js';
import type { Deps } from '../context.js';
import { retryDelivery } from './channels.outbound.js';

const RetryParams = Strict({ workspaceId: Uuid, id: Uuid, messageId: Uuid });
const RetryAnswer = Type.Object(
  {
    messageId: Uuid,
    status: Type.Literal('queued', { description: 'the reply is queued again; its metadata.delivery follows (message.updated on the socket)' }),
  },
  { examples: [{ messageId: '9a1d2e3f-4b5c-4d6e-8f70-81a2b3c4d5e6', status: 'queued' }] },
);

/** "Retry now" on a failed reply (agents and up). */
export function deliveryRoutes(app: App, server: Deps): void {
  app.post(
    '/conversations/:id/messages/:messageId/retry-delivery',
    {
      config: { minRole: 'agent' },
      schema: {
        tags: ['conversations'],
        operationId: 'retryDelivery',
        summary: 'Retry now: send a reply whose delivery failed again',
        description:
          'Queues the same reply again through the outbound job, attempts counted from zero; its `metadata.delivery` shows `queued`, then what happened. ' +
          '409 `channels.delivery_not_failed` when its delivery is not failed (queued, sent, delivered or read); 409 `channels.channel_unavailable` when ' +
          "the inbox's channel no longer sends; 409 `channels.delivery_not_retryable` when it was refused for a reason no retry changes (email: no valid address to send to); 409 `inboxes.disabled` when the inbox is disabled (it sends nothing until enabled again); 404 `channels.delivery_not_found` for a message no channel sends (a note, an inbound message, a reply in an API inbox), " +
          'one of another conversation, or of another workspace.',
        params: RetryParams,
        response: { 202: RetryAnswer, ...errorResponses(401, 403, 404, 409, 422) },
      },
    },
    async (request, reply) => reply.code(202).send(await retryDelivery(contextOf(server, request), request.params.id, request.params.messageId)),
  );
}
