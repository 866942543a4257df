import { useSyncExternalStore } from 'react';

/**
 * A tiny history router: the app has a handful of routes, so a library would only add weight to the
 * initial bundle. Paths:
 *   /login
 *   /w/:ws/v/:view[/c/:conversationId]   inbox view, optionally with a conversation open
 *   /w/:ws/admin/:section[/:item]   (an inbox's settings page: /w/:ws/admin/inboxes/:id)
 *   /w/:ws/search?q=…&status=…           the global search (conversations and customers)
 *   /w/:ws/customers[?q=…&kind=…&open=…&since=…]   the customer list, its search and filters
 *   /w/:ws/customers/:id                 a customer's profile
 *   /w/:ws/profile                       your own profile (name, password)
 *   /accept-invitation#token=…           (the link an invitation email carries)
 *   /confirm-email#token=…               (the link an address confirmation email carries)
 *   /forgot-password                     (ask for a password reset link)
 *   /reset-password#token=…              (the link a password reset email carries)
 */
const listeners = new Set<() => void>();
const notify = () => {
  for (const l of listeners) l();
};
window.addEventListener('popstate', notify);

export function navigate(to: string, opts: { replace?: boolean } = {}): void {
  if (to === location.pathname + location.search) return;
  if (opts.replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  notify();
}

function subscribe(listener: () => void) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

const snapshot = () => location.pathname + location.search;

export function useLocation(): { path: string; search: URLSearchParams } {
  const full = useSyncExternalStore(subscribe, snapshot);
  const [path, query = ''] = full.split('?');
  return { path, search: new URLSearchParams(query) };
}

export type Route =
  | { name: 'login' }
  | { name: 'accept-invitation'; token: string }
  | { name: 'confirm-email'; token: string }
  | { name: 'forgot-password' }
  | { name: 'reset-password'; token: string }
  | { name: 'inbox'; ws: string; view: string; conversationId: string | null }
  | { name: 'admin'; ws: string; section: string; item: string | null }
  | { name: 'search'; ws: string }
  | { name: 'customers'; ws: string }
  | { name: 'customer'; ws: string; customerId: string }
  | { name: 'profile'; ws: string }
  | { name: 'home' };

export function parseRoute(path: string, search: URLSearchParams): Route {
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  if (parts[0] === 'login') return { name: 'login' };
  // The server's invitation links put the token in the fragment (never sent on, never in a Referer).
  if (parts[0] === 'accept-invitation') return { name: 'accept-invitation', token: new URLSearchParams(location.hash.slice(1)).get('token') ?? search.get('token') ?? '' };
  if (parts[0] === 'forgot-password') return { name: 'forgot-password' };
  if (parts[0] === 'reset-password') return { name: 'reset-password', token: new URLSearchParams(location.hash.slice(1)).get('token') ?? '' };
  if (parts[0] === 'confirm-email') return { name: 'confirm-email', token: new URLSearchParams(location.hash.slice(1)).get('token') ?? '' };
  if (parts[0] === 'w' && parts[1]) {
    if (parts[2] === 'search') return { name: 'search', ws: parts[1] };
    if (parts[2] === 'profile') return { name: 'profile', ws: parts[1] };
    if (parts[2] === 'admin') return { name: 'admin', ws: parts[1], section: parts[3] ?? 'users', item: parts[4] ?? null };
    if (parts[2] === 'customers') return parts[3] ? { name: 'customer', ws: parts[1], customerId: parts[3] } : { name: 'customers', ws: parts[1] };
    if (parts[2] === 'v' && parts[3]) return { name: 'inbox', ws: parts[1], view: parts[3], conversationId: parts[4] === 'c' ? (parts[5] ?? null) : null };
    return { name: 'inbox', ws: parts[1], view: 'mine', conversationId: null };
  }
  return { name: 'home' };
}

export function inboxPath(ws: string, view: string, conversationId?: string | null, search?: URLSearchParams): string {
  const qs = search?.toString() ? `?${search.toString()}` : '';
  return `/w/${ws}/v/${encodeURIComponent(view)}${conversationId ? `/c/${conversationId}` : ''}${qs}`;
}

/** The global search screen for these words and filters (the URL holds them, so Back and a reload keep them). */
export function searchPath(ws: string, params: URLSearchParams): string {
  const qs = params.toString();
  return `/w/${ws}/search${qs ? `?${qs}` : ''}`;
}

export function customersPath(ws: string, search?: URLSearchParams): string {
  const qs = search?.toString() ? `?${search.toString()}` : '';
  return `/w/${ws}/customers${qs}`;
}

export function customerPath(ws: string, customerId: string): string {
  return `/w/${ws}/customers/${customerId}`;
}
