import { Type, type Static } from 'typebox';
import { Email, Nullable, PageQuery, Strict, Timestamp, Uuid, pageOf } from '../../http/schemas.js';

export const Phone = Type.String({ minLength: 3, maxLength: 32, pattern: '^[+0-9 ().-]+$' });
export const ExternalId = Type.String({ minLength: 1, maxLength: 200 });
export const CustomerName = Type.String({ minLength: 1, maxLength: 200 });
/** The customer's internal note: agents only (a client viewer never reads it, migration 0420). */
export const CustomerNotes = Type.String({ maxLength: 10000, description: "agents' internal note on the customer; never shown to a client viewer" });

/** Up to 50 flat attributes (plan, company, locale ...). Keys are identifiers; values are scalars. */
export const CustomAttributes = Type.Record(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]{0,63}$' }), Type.Union([Type.String({ maxLength: 2000 }), Type.Number(), Type.Boolean(), Type.Null()]), {
  maxProperties: 50,
  additionalProperties: false,
});

export const CreateCustomerBody = Strict({
  name: Type.Optional(CustomerName),
  email: Type.Optional(Email),
  phone: Type.Optional(Phone),
  externalId: Type.Optional(ExternalId),
  customAttributes: Type.Optional(CustomAttributes),
});
export type CreateCustomerInput = Static<typeof CreateCustomerBody>;

export const UpdateCustomerBody = Strict(
  {
    name: Type.Optional(Nullable(CustomerName)),
    email: Type.Optional(Email),
    phone: Type.Optional(Phone),
    externalId: Type.Optional(ExternalId),
    customAttributes: Type.Optional(CustomAttributes),
    notes: Type.Optional(Nullable(CustomerNotes)),
  },
  { minProperties: 1, examples: [{ name: 'Ann Lee', notes: 'Prefers email. VIP since 2024.' }] },
);
export type UpdateCustomerInput = Static<typeof UpdateCustomerBody>;

export const ListCustomersQuery = Strict({
  ...PageQuery,
  q: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'name prefix or exact email / phone' })),
  kind: Type.Optional(Type.String({ pattern: '^[a-z][a-z0-9_]{1,31}$', description: 'only customers holding an identity of this kind (email, phone, whatsapp, ...)' })),
  hasOpenConversation: Type.Optional(Type.Boolean({ description: 'true: only customers with a conversation not yet resolved or closed; false: only those without' })),
  createdAfter: Type.Optional(Type.String({ format: 'date-time', description: 'only customers created at or after this time' })),
  createdBefore: Type.Optional(Type.String({ format: 'date-time', description: 'only customers created before this time' })),
});
export type ListCustomersFilter = { kind?: string; hasOpenConversation?: boolean; createdAfter?: string; createdBefore?: string };

export const Identity = Type.Object({
  id: Uuid,
  kind: Type.String({ description: 'email, phone, external_id, or a kind a channel registered (whatsapp, telegram, messenger, chat_visitor, ...)' }),
  value: Type.String(),
});

export const Customer = Type.Object({
  id: Uuid,
  name: Nullable(Type.String()),
  email: Nullable(Type.String()),
  phone: Nullable(Type.String()),
  identities: Type.Array(Identity),
  customAttributes: Type.Record(Type.String(), Type.Any()),
  notes: Type.Optional(Nullable(Type.String({ description: "agents' internal note; absent for a client viewer" }))),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type CustomerView = Static<typeof Customer>;

/** An email address or a phone number to add to a customer; a phone is stored in international form (+ country code). */
export const AddIdentityBody = Strict(
  {
    kind: Type.Union([Type.Literal('email'), Type.Literal('phone')], { description: 'email or phone' }),
    // Checked by the service per kind, so a wrong value gets a coded error a person can read
    // (customers.invalid_email, customers.invalid_phone) rather than a schema path.
    value: Type.String({ minLength: 1, maxLength: 254, description: 'an email address, or a phone number in international form (+ and the country code)' }),
  },
  { examples: [{ kind: 'phone', value: '+44 20 7946 0958' }] },
);
export type AddIdentityInput = Static<typeof AddIdentityBody>;
export const IdentityParams = Strict({ workspaceId: Uuid, id: Uuid, identityId: Uuid });

export const CustomerConversationSummary = Type.Object({
  id: Uuid,
  number: Type.Integer(),
  inboxId: Uuid,
  channel: Type.String({ description: "the inbox's channel: email, api, or one a module registered" }),
  subject: Nullable(Type.String()),
  status: Type.String(),
  lastActivityAt: Timestamp,
});

const EXAMPLE = {
  id: '5d0c3a52-8f0e-4d7b-9a55-1c1f3f6f2b10',
  name: 'Ann Lee',
  email: 'ann@example.com',
  phone: '+442079460958',
  identities: [
    { id: '9b2d1c3e-1f4a-4a8e-8d3c-2e5f6a7b8c90', kind: 'email', value: 'ann@example.com' },
    { id: 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d', kind: 'phone', value: '+442079460958' },
  ],
  customAttributes: { plan: 'pro' },
  notes: 'Prefers email.',
  createdAt: '2026-11-02T09:30:00.000Z',
  updatedAt: '2026-11-20T16:05:00.000Z',
};

export const CustomerConversationList = Type.Array(CustomerConversationSummary);
export const CustomerDetail = Type.Object(
  { ...Customer.properties, conversations: CustomerConversationList },
  {
    description: 'A customer with identities, attributes, the internal note (agents only) and up to 50 conversations on every channel, most recently active first',
    examples: [
      {
        ...EXAMPLE,
        conversations: [
          {
            id: 'c7e9f0a1-2b3c-4d5e-8f6a-7b8c9d0e1f2a',
            number: 42,
            inboxId: '2f6e8a10-3c4d-4e5f-9a0b-1c2d3e4f5a6b',
            channel: 'email',
            subject: 'Broken mug',
            status: 'open',
            lastActivityAt: '2026-11-20T16:05:00.000Z',
          },
        ],
      },
    ],
  },
);
export const CustomerPage = Type.Object(pageOf(Customer).properties, { description: 'A page of customers, newest first', examples: [{ items: [EXAMPLE], nextCursor: null }] });
