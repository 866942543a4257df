import { Type, type Static } from 'typebox';
import { Email, Strict, Uuid } from '../../http/schemas.js';
import { MessageBody, MessageHtml, Subject } from './conversations.schemas.js';

/** An agent starts a conversation by writing first (issue #10: "New conversation" on a customer's page). */
export const StartOutboundBody = Strict(
  {
    customerId: Uuid,
    inboxId: Type.String({ format: 'uuid', description: 'an inbox whose channel sends email (an email inbox)' }),
    to: Type.String({ ...Email, description: "one of the customer's email addresses" }),
    subject: Subject,
    body: MessageBody,
    html: Type.Optional(MessageHtml),
  },
  {
    examples: [
      {
        customerId: '5d0c3a52-8f0e-4d7b-9a55-1c1f3f6f2b10',
        inboxId: '2f6e8a10-3c4d-4e5f-9a0b-1c2d3e4f5a6b',
        to: 'ann@example.com',
        subject: 'Your replacement mug',
        body: 'Hello Ann, your replacement mug ships today.',
      },
    ],
  },
);
export type StartOutboundInput = Static<typeof StartOutboundBody>;
