import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { NotificationPreferencesView, NotificationView } from '../../../src/modules/notifications/notifications.schemas.js';
import { api } from './client.js';
import { keys } from './keys.js';

/** A notification as the API answers it (the server's schema, imported as a type). */
export type Notification = NotificationView;
export type NotificationPreferences = NotificationPreferencesView;

const base = (ws: string) => `/workspaces/${ws}/notifications`;

/** What a notification says: the server's own wording (its emails say the same). */
export { sentenceOf as describeNotification } from '../../../src/modules/notifications/notifications.sentences.js';

/** GET /notifications: my notifications, newest first, a page at a time (the cursor), with my unread count. */
export function useNotifications(ws: string, enabled = true) {
  return useInfiniteQuery({
    enabled,
    queryKey: keys.notifications.list(ws),
    queryFn: ({ signal, pageParam }) => api<{ items: Notification[]; nextCursor: string | null; unread: number }>(base(ws), { signal, query: { limit: 20, cursor: pageParam } }),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.nextCursor,
  });
}

/** GET /notifications/unread-count: the number on the bell (refreshed by the socket's notification events). */
export function useUnreadNotificationCount(ws: string) {
  return useQuery({
    queryKey: keys.notifications.count(ws),
    queryFn: async ({ signal }) => (await api<{ unread: number }>(`${base(ws)}/unread-count`, { signal })).unread,
  });
}

/** POST /notifications/:id/read */
export function useMarkNotificationRead(ws: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api<Notification>(`${base(ws)}/${id}/read`, { method: 'POST' }),
    onSuccess: () => qc.invalidateQueries({ queryKey: keys.notifications.all(ws) }),
  });
}

/** POST /notifications/read-all: all of mine, or those about one conversation. */
export function useMarkAllNotificationsRead(ws: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (input: { conversationId?: string } = {}) => api<{ marked: number; unread: number }>(`${base(ws)}/read-all`, { method: 'POST', body: input }),
    onSuccess: () => qc.invalidateQueries({ queryKey: keys.notifications.all(ws) }),
  });
}

/** GET /notification-preferences */
export function useNotificationPreferences(ws: string) {
  return useQuery({
    queryKey: keys.notifications.preferences(ws),
    queryFn: ({ signal }) => api<NotificationPreferences>(`/workspaces/${ws}/notification-preferences`, { signal }),
  });
}

/** PUT /notification-preferences */
export function useUpdateNotificationPreferences(ws: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (email: NotificationPreferences['email']) => api<NotificationPreferences>(`/workspaces/${ws}/notification-preferences`, { method: 'PUT', body: { email } }),
    onSuccess: (prefs) => qc.setQueryData(keys.notifications.preferences(ws), prefs),
  });
}
