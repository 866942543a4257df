import { useEffect, useRef, useState } from 'react';
import { describeNotification, type Notification, useMarkAllNotificationsRead, useMarkNotificationRead, useNotifications, useUnreadNotificationCount } from '../../api/notifications.js';
import { ErrorState, InlineError, Loading } from '../../components/States.js';
import { since } from '../../lib/format.js';
import { inboxPath, navigate } from '../../lib/router.js';
import { NotificationSettings } from './NotificationSettings.js';

const supportsBrowserNotifications = () => typeof window !== 'undefined' && 'Notification' in window;

/**
 * The bell in the top bar: my unread count, live (the socket's notification events refresh it), and a
 * panel listing what happened to me in people's words. Opening one marks it read and opens its
 * conversation. While the tab is hidden, a new one also shows as a browser notification, if the person
 * allowed it (the browser's permission, asked only when they click "Turn on").
 */
export function NotificationsBell({ ws }: { ws: string }) {
  const [open, setOpen] = useState(false);
  const [settings, setSettings] = useState(false);
  const count = useUnreadNotificationCount(ws);
  const list = useNotifications(ws);
  const markRead = useMarkNotificationRead(ws);
  const markAll = useMarkAllNotificationsRead(ws);
  const panel = useRef<HTMLDivElement>(null);
  const unread = count.data ?? 0;

  const items = list.data?.pages.flatMap((p) => p.items);
  useBrowserNotifications(ws, list.data?.pages[0]?.items);

  useEffect(() => {
    if (!open) return;
    const onDown = (e: MouseEvent) => {
      if (panel.current && !panel.current.contains(e.target as Node)) setOpen(false);
    };
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') setOpen(false);
    };
    document.addEventListener('mousedown', onDown);
    document.addEventListener('keydown', onKey);
    return () => {
      document.removeEventListener('mousedown', onDown);
      document.removeEventListener('keydown', onKey);
    };
  }, [open]);

  const openOne = (n: Notification) => {
    if (!n.readAt) markRead.mutate(n.id);
    setOpen(false);
    if (n.conversationId) navigate(inboxPath(ws, 'all', n.conversationId));
  };

  return (
    <div className="bell" ref={panel}>
      <button
        type="button"
        className="btn btn-ghost bell-button"
        aria-haspopup="dialog"
        aria-expanded={open}
        aria-label={unread ? `Notifications: ${unread} unread` : 'Notifications'}
        onClick={() => {
          setOpen((o) => !o);
          setSettings(false);
        }}
      >
        <svg className="bell-icon" width="16" height="16" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
          <path fill="currentColor" d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5.5-6.84V3.5a1.5 1.5 0 0 0-3 0v.66A7 7 0 0 0 5 11v5l-2 2v1h18v-1l-2-2Z" />
        </svg>
        {unread ? (
          <span className="bell-count" data-testid="bell-count">
            {unread > 99 ? '99+' : unread}
          </span>
        ) : null}
      </button>
      {open ? (
        <div className="bell-panel" role="dialog" aria-label="Notifications">
          <div className="bell-head">
            <strong>{settings ? 'Notification settings' : 'Notifications'}</strong>
            <span className="spacer" />
            {settings ? (
              <button type="button" className="btn btn-small btn-ghost" onClick={() => setSettings(false)}>
                Back
              </button>
            ) : (
              <>
                <button type="button" className="btn btn-small btn-ghost" disabled={!unread || markAll.isPending} onClick={() => markAll.mutate({})}>
                  Mark all read
                </button>
                <button type="button" className="btn btn-small btn-ghost" onClick={() => setSettings(true)}>
                  Settings
                </button>
              </>
            )}
          </div>
          {settings ? (
            <NotificationSettings ws={ws} />
          ) : list.isPending ? (
            <Loading />
          ) : list.isError ? (
            <ErrorState error={list.error} retry={() => list.refetch()} />
          ) : !items?.length ? (
            <p className="muted bell-empty">Nothing yet. You will be told here when a conversation is assigned to you, a customer replies to yours, or someone mentions you in a note.</p>
          ) : (
            <ul className="bell-list">
              {items.map((n) => (
                <li key={n.id}>
                  <button type="button" className={`bell-item${n.readAt ? '' : ' unread'}`} onClick={() => openOne(n)}>
                    <span className="bell-sentence">{describeNotification(n)}</span>
                    {n.excerpt ? <span className="bell-excerpt">{n.excerpt}</span> : null}
                    <span className="muted small">{since(n.createdAt)}</span>
                  </button>
                </li>
              ))}
              {list.hasNextPage ? (
                <li>
                  <button type="button" className="btn btn-small btn-ghost bell-more" disabled={list.isFetchingNextPage} onClick={() => void list.fetchNextPage()}>
                    {list.isFetchingNextPage ? 'Loading…' : 'Show older'}
                  </button>
                </li>
              ) : null}
            </ul>
          )}
          <InlineError error={markRead.error ?? markAll.error} />
        </div>
      ) : null}
    </div>
  );
}

/**
 * Shows each new unread notification as a browser notification while this tab is hidden (the person
 * sees the app itself otherwise). Only ones that arrive after the list first loaded: opening the app
 * never replays old ones.
 */
function useBrowserNotifications(ws: string, items: Notification[] | undefined) {
  const seen = useRef<Set<string> | null>(null);
  useEffect(() => {
    if (!items) return;
    if (seen.current === null) {
      seen.current = new Set(items.map((n) => n.id));
      return;
    }
    const fresh = items.filter((n) => !seen.current!.has(n.id) && !n.readAt);
    for (const n of items) seen.current.add(n.id);
    if (!fresh.length || !document.hidden || !supportsBrowserNotifications() || window.Notification.permission !== 'granted') return;
    for (const n of fresh.slice(0, 3)) {
      const shown = new window.Notification(describeNotification(n), { body: n.excerpt, tag: n.id });
      shown.onclick = () => {
        window.focus();
        if (n.conversationId) navigate(inboxPath(ws, 'all', n.conversationId));
        shown.close();
      };
    }
  }, [ws, items]);
}
