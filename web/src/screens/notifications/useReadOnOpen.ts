import { useEffect, useRef } from 'react';
import { useMarkAllNotificationsRead, useNotifications } from '../../api/notifications.js';

/**
 * Opening a conversation reads what I was notified about it: its unread notifications (in the list the
 * bell already holds, so no extra request) are marked read, once per set of them (also when a new one
 * arrives while it is open). Client viewers have no notifications.
 */
export function useReadNotificationsOnOpen(ws: string, conversationId: string, enabled: boolean) {
  const list = useNotifications(ws, enabled);
  const { mutate } = useMarkAllNotificationsRead(ws);
  const done = useRef('');
  const unread = (list.data?.pages ?? [])
    .flatMap((p) => p.items)
    .filter((n) => n.conversationId === conversationId && !n.readAt)
    .map((n) => n.id)
    .join(',');
  useEffect(() => {
    if (!enabled || !unread || done.current === unread) return;
    done.current = unread;
    mutate({ conversationId });
  }, [enabled, unread, mutate, conversationId]);
}
