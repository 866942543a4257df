import { Type } from 'typebox';
import { Strict, Timestamp, Uuid } from '../../http/schemas.js';

export const InboxName = Type.String({ minLength: 1, maxLength: 100 });
export const CreateInboxBody = Strict({
  name: InboxName,
  channel: Type.String({ minLength: 1, maxLength: 32, pattern: '^[a-z][a-z0-9_]*$', description: 'a registered channel kind, e.g. "api"' }),
  settings: Type.Optional(Type.Record(Type.String({ maxLength: 64 }), Type.Any(), { maxProperties: 50 })),
});
export const UpdateInboxBody = Strict(
  {
    name: Type.Optional(InboxName),
    settings: Type.Optional(Type.Record(Type.String({ maxLength: 64 }), Type.Any(), { maxProperties: 50, description: 'replaces the whole settings object, checked by the channel' })),
  },
  { minProperties: 1 },
);
export const Inbox = Type.Object({
  id: Uuid,
  name: Type.String(),
  channel: Type.String(),
  // Hosts, usernames and addresses of the channel's servers are an admin's business (I1): agents and
  // client viewers get the inbox without them.
  settings: Type.Optional(Type.Record(Type.String(), Type.Any(), { description: 'the channel settings, secrets masked; admins and owners only' })),
  createdAt: Timestamp,
});
export const InboxList = Type.Object({ items: Type.Array(Inbox) });
