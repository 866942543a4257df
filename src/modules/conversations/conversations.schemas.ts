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
export const Tag = Type.String({
  minLength: 1,
  maxLength: 50,
  pattern: '^[\\p{L}\\p{N}][\\p{L}\\p{N} _.:/-]*$',
  errorMessage: {
    minLength: 'A tag cannot be empty',
    maxLength: 'A tag may be at most 50 characters long',
    pattern: 'Tags start with a letter or a digit and may use letters, digits, spaces and - _ . : /',
  },
});
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
  lastMessage: Nullable(
    Type.Object({
      type: Type.String(),
      preview: Type.String(),
      author: Type.Object(
        {
          type: Type.String({ description: 'customer, user (an agent), token, bot or system' }),
          id: Nullable(Type.String()),
          name: Nullable(Type.String({ description: "the author's name; null when it is not known" })),
        },
        { description: 'who wrote the previewed message, for "You: …" or "Ana: …" in the list' },
      ),
    }),
  ),
  messageCount: Type.Integer(),
  revision: Type.Optional(
    Type.Integer({
      minimum: 0,
      description:
        'agents only: raised by one on every change of the conversation (0 when created), so of two copies the higher revision is the newer (updatedAt cannot tell: a note does not move it)',
    }),
  ),
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

/** A bulk action's conversations at most: one page of the inbox is 50, "select all" on two pages 100. */
export const MAX_BULK = 100;
export const BULK_ACTIONS = ['assign', 'status', 'priority', 'tag', 'untag', 'snooze', 'close'] as const;
export type BulkAction = (typeof BULK_ACTIONS)[number];

export const BulkActionBody = Strict(
  {
    ids: Type.Array(Uuid, { minItems: 1, maxItems: MAX_BULK, uniqueItems: true, description: `the conversations, at most ${MAX_BULK}` }),
    action: Type.Enum(BULK_ACTIONS, {
      description:
        'assign (value: a user id, or null to unassign), status (open, pending or resolved), priority (low, normal, high, urgent), ' +
        'tag and untag (value: a tag), snooze (value: the time it wakes, ISO 8601), close (no value)',
    }),
    value: Type.Optional(Nullable(Type.String({ maxLength: 64, description: 'what the action sets; see action' }))),
  },
  {
    title: 'BulkAction',
    examples: [
      { ids: ['7d7f5f8e-3c1a-4a53-9a43-0f6d2c9b1a10', '0b9c1f62-2f7e-4d0e-8a3e-5d7a3c2e9f11'], action: 'assign', value: '5b1f0c5e-9a27-4f7b-b6a1-2c3d4e5f6a7b' },
      { ids: ['7d7f5f8e-3c1a-4a53-9a43-0f6d2c9b1a10'], action: 'close' },
    ],
  },
);
export type BulkActionInput = Static<typeof BulkActionBody>;

export const BulkResult = Type.Object(
  {
    results: Type.Array(
      Type.Object({
        id: Uuid,
        ok: Type.Boolean({ description: 'true: the action applied (or there was nothing to change)' }),
        code: Type.Optional(Type.String({ description: 'why not: conversations.not_found (missing, or not in this workspace), conversations.too_many_tags, ...' })),
        message: Type.Optional(Type.String({ description: 'why not, in words to show' })),
      }),
      { description: 'one per id, in the order asked' },
    ),
    changed: Type.Integer({ minimum: 0, description: 'how many results are ok' }),
  },
  {
    title: 'BulkResult',
    examples: [
      {
        results: [
          { id: '7d7f5f8e-3c1a-4a53-9a43-0f6d2c9b1a10', ok: true },
          { id: '0b9c1f62-2f7e-4d0e-8a3e-5d7a3c2e9f11', ok: false, code: 'conversations.not_found', message: 'No such conversation' },
        ],
        changed: 1,
      },
    ],
  },
);
export type BulkResult = Static<typeof BulkResult>;
