import { Type } from 'typebox';
import { AGENTS_ONLY, defineEvents } from '../../events/define.js';
import { DELIVERY_STATUSES } from './channels.registry.js';

export const channelEvents = defineEvents({
  'message.delivery_changed': {
    description:
      "A reply's delivery state changed in the one outbound job or by the provider's receipt: queued (waiting for an attempt), sent, delivered, read, " +
      'or failed (given up: a permanent refusal or the last attempt; the dead letter). Also recorded as message.updated for views.',
    scope: 'conversation',
    // Channel metadata about a reply: for the agents who follow delivery.
    audience: AGENTS_ONLY,
    data: Type.Object(
      {
        messageId: Type.String({ format: 'uuid', description: 'the reply' }),
        channel: Type.String({ description: 'the channel kind of its inbox' }),
        status: Type.Enum(DELIVERY_STATUSES, { description: 'queued, sent, delivered, read or failed' }),
        reason: Type.Union([Type.String(), Type.Null()], { description: 'a stable code: why the last attempt failed, or why it was given up' }),
        attempts: Type.Integer({ minimum: 0, description: 'attempts made so far' }),
      },
      { additionalProperties: false },
    ),
  },
});
