import { Type } from 'typebox';
import { Nullable, Strict, Timestamp, Uuid } from '../../http/schemas.js';

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
const INBOX_EXAMPLE = {
  id: '5b1f8a52-3d2e-4c8f-9a51-0c7a2e6d9f10',
  name: 'Support',
  channel: 'email',
  settings: {
    addresses: ['support@acme.example'],
    catchAllDomains: [],
    fromName: 'Acme Support',
    imap: null,
    smtp: { host: 'smtp.acme.example', port: 587, tls: 'starttls', user: 'support@acme.example', password: '********' },
    autoAck: { enabled: true, subject: 'We received your message [#{{number}}]', body: 'Hello {{name}}, we will answer soon.' },
  },
  createdAt: '2026-12-01T10:00:00.000Z',
  disabledAt: null,
};

export const Inbox = Type.Object(
  {
    id: Uuid,
    name: Type.String(),
    channel: Type.String(),
    // Hosts, usernames and addresses of the channel's servers are an admin's business (I1): agents and
    // client viewers get the inbox without them.
    settings: Type.Optional(
      Type.Record(Type.String(), Type.Any(), {
        description: 'the channel settings, secrets masked as "********" (send the mask back to keep a stored secret); admins and owners only',
      }),
    ),
    createdAt: Timestamp,
    disabledAt: Nullable(Type.String({ format: 'date-time', description: 'when an admin disabled the inbox (no new mail, no replies; conversations kept), or null' })),
  },
  { examples: [INBOX_EXAMPLE] },
);
export const InboxList = Type.Object({ items: Type.Array(Inbox) }, { examples: [{ items: [INBOX_EXAMPLE] }] });
