import { Type, type Static } from 'typebox';
import { Nullable, PageQuery, Strict, Uuid } from '../../http/schemas.js';
import { Conversation, StatusSchema } from '../conversations/conversations.schemas.js';
import { Customer } from '../customers/customers.schemas.js';

/**
 * The global search's query. The filters are loose strings at the edge (bounded in length) and read
 * by the service, which refuses a bad date or id with a coded problem in people's words
 * (search.invalid_date, search.invalid_filter) rather than a schema path.
 */
export const SearchQuery = Strict({
  q: Type.String({ minLength: 1, maxLength: 200, description: 'words (subject, messages), a customer name, email or phone, or #number', examples: ['ada@example.com'] }),
  status: Type.Optional(Type.Array(StatusSchema, { maxItems: 5, description: 'only these statuses (repeat the parameter); every status when absent' })),
  inboxId: Type.Optional(Type.String({ maxLength: 64, description: 'an inbox id' })),
  teamId: Type.Optional(Type.String({ maxLength: 64, description: 'a team id, or "none"' })),
  assigneeId: Type.Optional(Type.String({ maxLength: 64, description: 'a user id, "me" or "none"' })),
  tag: Type.Optional(Type.String({ minLength: 1, maxLength: 50, description: 'conversations with this tag' })),
  from: Type.Optional(Type.String({ maxLength: 40, description: 'last activity on or after: a date (2026-12-01, from its start in UTC) or a date-time', examples: ['2026-12-01'] })),
  to: Type.Optional(Type.String({ maxLength: 40, description: 'last activity on or before: a date (2026-12-31, to its end in UTC) or a date-time (exclusive)', examples: ['2026-12-31'] })),
  ...PageQuery,
});
export type SearchQuery = Static<typeof SearchQuery>;

export const SearchMatch = Type.Object(
  {
    kind: Nullable(Type.Union([Type.Literal('number'), Type.Literal('customer'), Type.Literal('message'), Type.Literal('subject')], { description: 'why the conversation was found' })),
    messageId: Nullable(Uuid),
    snippet: Nullable(Type.String({ description: 'the words in the newest message that holds them (never an internal note for a client viewer)' })),
  },
  { description: 'why a conversation matched' },
);

export const SearchConversation = Type.Object({ ...Conversation.properties, match: SearchMatch });

const example = {
  conversations: {
    items: [
      {
        id: '0b6f3b8e-8a43-4c55-9a3a-4f5c2e0e9d11',
        number: 1042,
        inboxId: '5a0c6a62-1f1e-4d8e-9a5d-2c1b7e9f0a33',
        channel: 'email',
        customer: { id: '9d7c1c55-0c3e-4a55-b5d8-7f3e2b1a6c44', name: 'Ada Lovelace', email: 'ada@example.com', phone: null },
        subject: 'Refund for order 5531',
        status: 'snoozed',
        snoozedUntil: '2026-12-03T09:00:00.000Z',
        priority: 'normal',
        assigneeId: null,
        teamId: null,
        tags: ['billing'],
        createdAt: '2026-12-01T10:02:00.000Z',
        updatedAt: '2026-12-01T11:30:00.000Z',
        lastActivityAt: '2026-12-01T11:30:00.000Z',
        waitingSince: null,
        firstResponseAt: '2026-12-01T11:30:00.000Z',
        resolvedAt: null,
        lastMessage: { type: 'outbound', preview: 'We will refund you by Thursday.', author: { type: 'user', id: '5b1c6f0e-2f55-4a8e-9d7f-0c7c3d2b9a11', name: 'Ana Agent' } },
        messageCount: 2,
        match: { kind: 'customer', messageId: null, snippet: null },
      },
    ],
    nextCursor: null,
  },
  customers: {
    items: [
      {
        id: '9d7c1c55-0c3e-4a55-b5d8-7f3e2b1a6c44',
        name: 'Ada Lovelace',
        email: 'ada@example.com',
        phone: null,
        identities: [{ id: 'c1a3f0d2-6b7e-4c1d-8e9f-0a1b2c3d4e55', kind: 'email', value: 'ada@example.com' }],
        customAttributes: {},
        createdAt: '2026-12-01T10:02:00.000Z',
        updatedAt: '2026-12-01T10:02:00.000Z',
      },
    ],
  },
};

export const SearchResults = Type.Object(
  {
    conversations: Type.Object(
      { items: Type.Array(SearchConversation), nextCursor: Nullable(Type.String({ description: 'more may match: pass it as `cursor` (a page may be short and still have one)' })) },
      { description: 'conversations in every status (unless `status` narrows them), by last activity' },
    ),
    customers: Type.Object({ items: Type.Array(Customer, { maxItems: 10 }) }, { description: 'customers the text names (at most 10, newest first); the conversation filters do not apply to them' }),
  },
  { examples: [example] },
);
export type SearchResults = Static<typeof SearchResults>;
