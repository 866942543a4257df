import { Type, type Static } from 'typebox';
import { Email, Nullable, PageQuery, Strict, Timestamp, Uuid, pageOf } from '../../http/schemas.js';

export const Phone = Type.String({ minLength: 3, maxLength: 32, pattern: '^[+0-9 ().-]+$' });
export const ExternalId = Type.String({ minLength: 1, maxLength: 200 });
export const CustomerName = Type.String({ minLength: 1, maxLength: 200 });

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
  },
  { minProperties: 1 },
);
export type UpdateCustomerInput = Static<typeof UpdateCustomerBody>;

export const ListCustomersQuery = Strict({
  ...PageQuery,
  q: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'name prefix or exact email / phone' })),
});

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
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type CustomerView = Static<typeof Customer>;

export const CustomerConversationSummary = Type.Object({
  id: Uuid,
  number: Type.Integer(),
  subject: Nullable(Type.String()),
  status: Type.String(),
  lastActivityAt: Timestamp,
});

export const CustomerDetail = Type.Object({ ...Customer.properties, conversations: Type.Array(CustomerConversationSummary) });
export const CustomerPage = pageOf(Customer);
