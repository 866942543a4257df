import { Type } from 'typebox';
import { defineEvents } from '../../events/define.js';
import { Nullable, Uuid } from '../../http/schemas.js';

/**
 * A notification is news for one person: its events reach only that member's sockets (`recipient`),
 * so every open tab of theirs updates the bell at once and nobody else learns of it.
 */
const FOR_ONE_PERSON = { clients: false, customer: false, recipient: 'userId' } as const;

export const notificationEvents = defineEvents({
  'notification.created': {
    description: 'A member was notified (assigned a conversation, a customer replied on theirs, a note mentioned them). Only that member receives it.',
    scope: 'workspace',
    audience: FOR_ONE_PERSON,
    data: Type.Object(
      {
        notificationId: Type.String({ format: 'uuid', description: 'the notification' }),
        userId: Type.String({ format: 'uuid', description: 'the member notified: the only one who receives this event' }),
        kind: Type.String({ description: 'assigned, customer_replied or mentioned' }),
        conversationId: Nullable(Uuid),
      },
      { additionalProperties: false },
    ),
  },
  'notification.read': {
    description: 'A member marked notifications read (one, all, or all about one conversation), so their other tabs update the bell. Only that member receives it.',
    scope: 'workspace',
    audience: FOR_ONE_PERSON,
    data: Type.Object(
      {
        userId: Type.String({ format: 'uuid', description: 'the member: the only one who receives this event' }),
        notificationId: Nullable(Type.String({ format: 'uuid', description: 'the notification, or null when several were (all, or all about one conversation)' })),
      },
      { additionalProperties: false },
    ),
  },
});
