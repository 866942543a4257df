import { Type, type Static } from 'typebox';
import { Nullable, PageQuery, Strict, Timestamp, Uuid, pageOf } from '../../http/schemas.js';
import { CustomerName, ExternalId, Phone } from '../customers/customers.schemas.js';
import { Email } from '../../http/schemas.js';

export const STATUSES = ['open', 'pending', 'snoozed', 'resolved', 'closed'] as const;
export const PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const;
export type Status = (typeof STATUSES)[number];
export type Priority = (typeof PRIORITIES)[number];

export const StatusSchema = Type.Enum(STATUSES);
export const PrioritySchema = Type.Enum(PRIORITIES);
export const Tag = Type.String({ minLength: 1, maxLength: 50, pattern: '^[\\p{L}\\p{N}][\\p{L}\\p{N} _.:/-]*$' });
export const MessageBody = Type.String({ minLength: 1, maxLength: 65536 });
export const MessageHtml = Type.String({ minLength: 1, maxLength: 262144 });
export const Subject = Type.String({ minLength: 1, maxLength: 500 });

/** Tags a conversation holds at most: the API's lists and a macro's added tags together. */
export const MAX_TAGS = 20;

export const CreateConversationBody = Strict({
  inboxId: Type.Optional(Uuid),
  customer: Strict({
    email: Type.Optional(Email),
    phone: Type.Optional(Phone),
    externalId: Type.Optional(ExternalId),
    name: Type.Optional(CustomerName),
  }),
  subject: Type.Optional(Subject),
  message: Strict({ body: MessageBody, html: Type.Optional(MessageHtml) }),
  priority: Type.Optional(PrioritySchema),
  tags: Type.Optional(Type.Array(Tag, { maxItems: MAX_TAGS })),
});
export type CreateConversationInput = Static<typeof CreateConversationBody>;

export const UpdateConversationBody = Strict(
  {
    status: Type.Optional(StatusSchema),
    snoozedUntil: Type.Optional(Timestamp),
    priority: Type.Optional(PrioritySchema),
    assigneeId: Type.Optional(Nullable(Uuid)),
    teamId: Type.Optional(Nullable(Uuid)),
    tags: Type.Optional(Type.Array(Tag, { maxItems: MAX_TAGS })),
    subject: Type.Optional(Nullable(Subject)),
  },
  { minProperties: 1 },
);
export type UpdateConversationInput = Static<typeof UpdateConversationBody>;

export const ListConversationsQuery = Strict({
  ...PageQuery,
  status: Type.Optional(Type.Array(StatusSchema, { maxItems: 5, description: 'one or more statuses (repeat the parameter)' })),
  assignee: Type.Optional(Type.String({ pattern: '^(me|none|[0-9a-fA-F-]{36})$', description: '"me", "none" or a user id' })),
  team: Type.Optional(Type.String({ pattern: '^(none|[0-9a-fA-F-]{36})$', description: '"none" or a team id' })),
  inbox: Type.Optional(Uuid),
  priority: Type.Optional(PrioritySchema),
  tag: Type.Optional(Tag),
  customer: Type.Optional(Uuid),
  q: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'words in the subject or messages, #number, or a customer email' })),
  sort: Type.Optional(Type.Union([Type.Literal('last_activity'), Type.Literal('waiting_longest')], { default: 'last_activity' })),
});
export type ListConversationsQuery = Static<typeof ListConversationsQuery>;

export const Conversation = Type.Object({
  id: Uuid,
  number: Type.Integer(),
  inboxId: Uuid,
  channel: Type.String(),
  customer: Type.Object({ id: Uuid, name: Nullable(Type.String()), email: Nullable(Type.String()), phone: Nullable(Type.String()) }),
  subject: Nullable(Type.String()),
  status: StatusSchema,
  snoozedUntil: Nullable(Timestamp),
  priority: PrioritySchema,
  assigneeId: Nullable(Uuid),
  teamId: Nullable(Uuid),
  tags: Type.Array(Type.String()),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  lastActivityAt: Timestamp,
  waitingSince: Nullable(Timestamp),
  firstResponseAt: Nullable(Timestamp),
  resolvedAt: Nullable(Timestamp),
  lastMessage: Nullable(Type.Object({ type: Type.String(), preview: Type.String() })),
  messageCount: Type.Integer(),
});
export type ConversationView = Static<typeof Conversation>;
export const ConversationPage = pageOf(Conversation);

/**
 * The collision check a reply may ask for ("traffic cop"): the newest message the agent saw when they
 * began writing. If someone else (the customer or another agent) added a public message after it, the
 * reply is refused with 409 `conversations.reply_collision` and those messages, unless `sendAnyway`.
 */
export const ReplyGuard = {
  lastSeenMessageId: Type.Optional({
    ...Uuid,
    description: 'the newest message of the thread the agent saw (any type); a reply then collides with public messages others added after it',
  }),
  sendAnyway: Type.Optional(Type.Boolean({ description: 'send even if others replied after lastSeenMessageId (the agent saw the warning)' })),
};

export const CreateMessageBody = Strict(
  {
    type: Type.Union([Type.Literal('reply'), Type.Literal('note')]),
    body: MessageBody,
    html: Type.Optional(MessageHtml),
    ...ReplyGuard,
  },
  { examples: [{ type: 'reply', body: 'Thanks, the refund is on its way.', lastSeenMessageId: '5b0e3c1a-7d2f-4a65-9c1e-2f4b8d6a0e11' }] },
);
export type CreateMessageInput = Static<typeof CreateMessageBody>;

/** What a message is. Text is every message written so far; channels add calls, the system notices. */
export const MESSAGE_KINDS = ['text', 'call', 'system_notice'] as const;
export type MessageKind = (typeof MESSAGE_KINDS)[number];
/** Who wrote a message: `bot` is an automated assistant answering on the workspace's behalf. */
export type AuthorType = 'customer' | 'user' | 'token' | 'system' | 'bot';

export const Message = Type.Object({
  id: Uuid,
  conversationId: Uuid,
  type: Type.Union([Type.Literal('inbound'), Type.Literal('outbound'), Type.Literal('note')]),
  author: Type.Object({ type: Type.String({ description: 'customer, user, token, system or bot' }), id: Nullable(Uuid), name: Nullable(Type.String()) }),
  body: Type.String(),
  html: Nullable(Type.String()),
  metadata: Type.Record(Type.String(), Type.Any()),
  createdAt: Timestamp,
  kind: Type.Optional(Type.Enum(MESSAGE_KINDS, { description: 'call or system_notice; absent for an ordinary text message' })),
});
export type MessageView = Static<typeof Message>;

/** 409 `conversations.reply_collision`: the problem, plus the public messages others added since the agent's last seen one. */
export const ReplyCollisionProblem = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    code: Type.String({ description: 'conversations.reply_collision' }),
    detail: Type.Optional(Type.String()),
    messages: Type.Array(Message, { description: 'the newer public messages, oldest first (at most 20)' }),
  },
  {
    description: 'Someone replied while you were writing: nothing was sent. Show them, then send again with sendAnyway, or with the newest as lastSeenMessageId.',
    examples: [
      {
        type: '/problems/conversations.reply_collision',
        title: 'Someone else replied since you opened the conversation',
        status: 409,
        code: 'conversations.reply_collision',
        messages: [
          {
            id: '9a1d2e3f-4b5c-4d6e-8f70-81a2b3c4d5e6',
            conversationId: '1c2d3e4f-5a6b-4c7d-8e9f-a0b1c2d3e4f5',
            type: 'outbound',
            author: { type: 'user', id: '2b3c4d5e-6f70-4a81-92a3-b4c5d6e7f809', name: 'Ana Lopez' },
            body: 'I have refunded the order.',
            html: null,
            metadata: {},
            createdAt: '2026-03-02T10:15:00.000Z',
          },
        ],
      },
    ],
  },
);
export const MessagePage = pageOf(Message);
export const MessagesQuery = Strict({ ...PageQuery, order: Type.Optional(Type.Union([Type.Literal('asc'), Type.Literal('desc')], { default: 'asc' })) });

export const Event = Type.Object({
  id: Type.String(),
  type: Type.String(),
  actor: Type.Object({ type: Type.String(), id: Nullable(Uuid) }),
  data: Type.Record(Type.String(), Type.Any()),
  createdAt: Timestamp,
});
export const EventPage = pageOf(Event);
export const EventsQuery = Strict({
  ...PageQuery,
  exclude: Type.Optional(
    Type.Array(Type.String({ maxLength: 64, pattern: '^[a-z_]+\\.[a-z_]+$' }), {
      maxItems: 10,
      description: 'event types to leave out (repeat the parameter), e.g. message.created when the thread already shows the messages',
    }),
  ),
});
