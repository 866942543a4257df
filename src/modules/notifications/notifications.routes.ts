import { errorResponses, WorkspaceParams } from '../../http/schemas.js';
import { contextOf, type App } from '../../http/types.js';
import type { Deps } from '../context.js';
import {
  MarkAllReadBody,
  MarkedRead,
  Notification,
  NotificationPage,
  NotificationParams,
  NotificationPreferences,
  NotificationsQuery,
  UnreadCount,
  UpdatePreferencesBody,
} from './notifications.schemas.js';
import { getPreferences, listNotifications, markAllRead, markRead, unreadCount, updatePreferences } from './notifications.service.js';

const tags = ['notifications'];
// Notifications are for members who work conversations (agent and up): nothing notifies a client
// viewer, and an API token is told nothing (403 notifications.people_only).
const config = { minRole: 'agent' as const };

/** The signed-in member's own notifications and notification preferences. */
export function notificationRoutes(app: App, server: Deps): void {
  const emailAvailable = () => server.config.systemMailSmtpUrl !== null;

  app.get(
    '/notifications',
    {
      config,
      schema: {
        tags,
        operationId: 'listNotifications',
        summary: 'My notifications, newest first',
        description:
          'What happened to you in this workspace: a conversation assigned to you (not by yourself), a customer reply on a conversation assigned to you, a note mentioning you (@name). ' +
          'Pages by `cursor`; `unread=true` lists only unread ones; `unread` is your unread count. API tokens have no notifications (403 notifications.people_only).',
        params: WorkspaceParams,
        querystring: NotificationsQuery,
        response: { 200: NotificationPage, ...errorResponses(401, 403, 404, 422) },
      },
    },
    async (request) => listNotifications(contextOf(server, request), request.query),
  );

  app.get(
    '/notifications/unread-count',
    {
      config,
      schema: {
        tags,
        operationId: 'getUnreadNotificationCount',
        summary: 'How many of my notifications are unread (the bell)',
        description: 'The number on the bell. It changes live: your sockets receive notification.created and notification.read.',
        params: WorkspaceParams,
        response: { 200: UnreadCount, ...errorResponses(401, 403, 404) },
      },
    },
    async (request) => unreadCount(contextOf(server, request)),
  );

  app.post(
    '/notifications/:id/read',
    {
      config,
      schema: {
        tags,
        operationId: 'markNotificationRead',
        summary: 'Mark one of my notifications read',
        description: "Marking it again changes nothing. Someone else's notification answers 404 like a missing one.",
        params: NotificationParams,
        response: { 200: Notification, ...errorResponses(401, 403, 404) },
      },
    },
    async (request) => markRead(contextOf(server, request), request.params.id),
  );

  app.post(
    '/notifications/read-all',
    {
      config,
      schema: {
        tags,
        operationId: 'markAllNotificationsRead',
        summary: 'Mark all my notifications read, or all about one conversation',
        description: 'The body is `{}` for all of them; with `conversationId`, only those about that conversation (the web app sends it when the agent opens the conversation).',
        params: WorkspaceParams,
        body: MarkAllReadBody,
        response: { 200: MarkedRead, ...errorResponses(401, 403, 404) },
      },
    },
    async (request) => markAllRead(contextOf(server, request), request.body ?? {}),
  );

  app.get(
    '/notification-preferences',
    {
      config,
      schema: {
        tags,
        operationId: 'getNotificationPreferences',
        summary: 'Which notifications are also emailed to me',
        description:
          'In-app notifications are always on; browser notifications are a permission of your browser. `emailAvailable` is false when the server has no mail relay (EMAIL_VERIFICATION_SMTP_URL): then nothing is emailed.',
        params: WorkspaceParams,
        response: { 200: NotificationPreferences, ...errorResponses(401, 403, 404) },
      },
    },
    async (request) => getPreferences(contextOf(server, request), emailAvailable()),
  );

  app.put(
    '/notification-preferences',
    {
      config,
      schema: {
        tags,
        operationId: 'updateNotificationPreferences',
        summary: 'Choose which notifications are also emailed to me',
        description: 'Every kind is named (true: emailed). Kept while no mail relay is set, and used once one is.',
        params: WorkspaceParams,
        body: UpdatePreferencesBody,
        response: { 200: NotificationPreferences, ...errorResponses(401, 403, 404, 422) },
      },
    },
    async (request) => updatePreferences(contextOf(server, request), request.body, emailAvailable()),
  );
}
