import { Type, type Static } from 'typebox';
import { Nullable, PageQuery, Strict, Timestamp, Uuid } from '../../http/schemas.js';

/**
 * What a person is notified of. A new kind (an SLA at risk) is one more entry here, a subscriber that
 * writes it, and its sentence in the web app: the table stores the kind as text.
 */
export const NOTIFICATION_KINDS = ['assigned', 'customer_replied', 'mentioned', 'delivery_failed'] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];
const Kind = Type.Enum(NOTIFICATION_KINDS, {
  description:
    'assigned: a conversation was assigned to you; customer_replied: the customer wrote on a conversation assigned to you; mentioned: a note named you; ' +
    'delivery_failed: a reply you wrote could not be delivered (retry it from the conversation)',
});

export const Notification = Type.Object(
  {
    id: Uuid,
    kind: Kind,
    conversationId: Nullable(Uuid),
    conversationNumber: Nullable(Type.Integer({ description: 'the conversation as agents know it (#42)' })),
    actor: Type.Object(
      {
        type: Type.String({ description: 'user, token, customer or system' }),
        id: Nullable(Uuid),
        name: Nullable(Type.String({ description: 'as named when it happened; null for Rapport itself' })),
      },
      { description: 'who did it' },
    ),
    excerpt: Type.String({ description: 'the start of the note or reply (plain text), or the subject of an assigned conversation' }),
    createdAt: Timestamp,
    readAt: Nullable(Timestamp),
  },
  {
    title: 'Notification',
    examples: [
      {
        id: '6f1c2a4e-8b1d-4c55-9a0e-2f3b4c5d6e7f',
        kind: 'mentioned',
        conversationId: '0b7e3f0a-2c1d-4e5f-8a9b-0c1d2e3f4a5b',
        conversationNumber: 1042,
        actor: { type: 'user', id: '3d2c1b0a-9f8e-4d7c-a6b5-c4d3e2f1a0b9', name: 'Ana Lopez' },
        excerpt: '@Bob Stone can you check the refund?',
        createdAt: '2026-12-02T10:15:00.000Z',
        readAt: null,
      },
    ],
  },
);
export type NotificationView = Static<typeof Notification>;

export const NotificationPage = Type.Object(
  { items: Type.Array(Notification), nextCursor: Nullable(Type.String()), unread: Type.Integer({ minimum: 0, description: 'how many of your notifications are unread' }) },
  { title: 'NotificationPage', examples: [{ items: [], nextCursor: null, unread: 0 }] },
);
export const NotificationsQuery = Strict({ ...PageQuery, unread: Type.Optional(Type.Boolean({ description: 'true: only unread ones' })) });
export type NotificationsQuery = Static<typeof NotificationsQuery>;

export const UnreadCount = Type.Object({ unread: Type.Integer({ minimum: 0 }) }, { title: 'UnreadNotificationCount', examples: [{ unread: 3 }] });
export const MarkedRead = Type.Object(
  { marked: Type.Integer({ minimum: 0, description: 'how many were unread and are now read' }), unread: Type.Integer({ minimum: 0 }) },
  { title: 'NotificationsMarkedRead', examples: [{ marked: 3, unread: 0 }] },
);

const EmailKinds = Strict(
  { assigned: Type.Boolean(), customer_replied: Type.Boolean(), mentioned: Type.Boolean(), delivery_failed: Type.Boolean() },
  { description: 'per kind, whether it is also emailed to you (in-app notifications are always on)' },
);
/** In a change, a kind left out keeps its setting (delivery_failed came later: older clients do not send it). */
const EmailKindsChange = Strict(
  { assigned: Type.Boolean(), customer_replied: Type.Boolean(), mentioned: Type.Boolean(), delivery_failed: Type.Optional(Type.Boolean()) },
  { description: 'per kind, whether it is also emailed to you (in-app notifications are always on); a kind left out keeps its setting' },
);
export const NotificationPreferences = Type.Object(
  {
    email: EmailKinds,
    emailAvailable: Type.Boolean({ description: 'false when the server has no mail relay (EMAIL_VERIFICATION_SMTP_URL): nothing is emailed whatever the choices' }),
  },
  { title: 'NotificationPreferences', examples: [{ email: { assigned: true, customer_replied: false, mentioned: true, delivery_failed: true }, emailAvailable: true }] },
);
export type NotificationPreferencesView = Static<typeof NotificationPreferences>;
export const UpdatePreferencesBody = Strict({ email: EmailKindsChange }, { examples: [{ email: { assigned: true, customer_replied: false, mentioned: true, delivery_failed: true } }] });
export type UpdatePreferencesInput = Static<typeof UpdatePreferencesBody>;

export const MarkAllReadBody = Strict(
  { conversationId: Type.Optional({ ...Uuid, description: 'only the notifications about this conversation (the agent opened it)' }) },
  { examples: [{}, { conversationId: '0b7e3f0a-2c1d-4e5f-8a9b-0c1d2e3f4a5b' }] },
);
export type MarkAllReadInput = Static<typeof MarkAllReadBody>;

export const NotificationParams = Strict({ workspaceId: Uuid, id: Uuid });
