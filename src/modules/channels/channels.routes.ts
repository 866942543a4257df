import { Type } from 'typebox';
import { Strict, Uuid, errorResponses } from '../../http/schemas.js';
import type { App } from '../../http/types.js';
import type { Deps } from '../context.js';
import { handleWebhook } from './channels.webhooks.js';

const WebhookParams = Strict({
  kind: Type.String({ pattern: '^[a-z][a-z0-9_]{1,31}$', description: 'the channel kind of the inbox', examples: ['whatsapp'] }),
  inboxId: Uuid,
});
const WebhookAnswer = Type.Object({
  received: Type.Integer({ description: 'events the call carried', examples: [1] }),
  duplicate: Type.Optional(Type.Boolean({ description: 'true when this delivery was taken before (a replay): nothing was applied again', examples: [true] })),
});

/** Largest webhook body: providers send one message or a few receipts per call. */
const WEBHOOK_BODY_LIMIT = 256 * 1024;

/**
 * The public webhook of each channel: POST /api/v1/channels/{kind}/webhooks/{inboxId}. No sign-in:
 * the channel's own signature over the raw body is the proof, so the body reaches the handler as
 * the bytes that were sent (its own content-type parser, in this plugin only).
 */
export async function channelWebhookRoutes(app: App, server: Deps): Promise<void> {
  await app.register(async (scope) => {
    const s = scope as unknown as App;
    s.removeAllContentTypeParsers();
    s.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: WEBHOOK_BODY_LIMIT }, (_request, body, done) => done(null, body));
    s.post(
      '/api/v1/channels/:kind/webhooks/:inboxId',
      {
        config: { public: true },
        bodyLimit: WEBHOOK_BODY_LIMIT,
        schema: {
          tags: ['channels'],
          operationId: 'receiveChannelWebhook',
          summary: "A channel provider's callback (messages, delivery receipts)",
          description:
            "Called by the provider of an inbox's channel, not by people. The body is read as sent and its signature checked by the channel " +
            '(HMAC over the raw bytes, compared in constant time); a missing or wrong signature answers 401 `channels.bad_signature` and changes nothing. ' +
            'A channel that signs a timestamp has it checked against the server clock: more than five minutes either way answers 401 `channels.webhook_stale` and changes nothing. ' +
            'A delivery taken before (its provider delivery id, or a hash of the signed bytes, seen within a day) answers 200 with `duplicate: true` and is not applied again.',
          params: WebhookParams,
          response: { 200: WebhookAnswer, ...errorResponses(400, 401, 404, 413) },
        },
      },
      async (request) => {
        const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        return handleWebhook(server, request.params.kind, request.params.inboxId, { raw, headers: request.headers });
      },
    );
  });
}
