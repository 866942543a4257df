import type { SearchParams } from './search.js';
import type { ConversationFilters, CustomerFilters } from './types.js';

/**
 * The query-key factory: every cached query lives under its workspace, so a mutation (or a realtime
 * event) can refresh exactly the lists it changes, and a workspace switch never shows stale rows.
 */
export const keys = {
  session: ['session'] as const,
  /** The server's capabilities (can it send email): the same for everyone. */
  capabilities: ['capabilities'] as const,
  /** Outside any workspace: what an invitation link opens, before the person is a member. */
  invitationPreview: (token: string) => ['invitation-preview', token] as const,
  workspace: (ws: string) => ['ws', ws] as const,
  conversations: {
    all: (ws: string) => ['ws', ws, 'conversations'] as const,
    lists: (ws: string) => ['ws', ws, 'conversations', 'list'] as const,
    list: (ws: string, filters: ConversationFilters) => ['ws', ws, 'conversations', 'list', filters] as const,
    counts: (ws: string) => ['ws', ws, 'conversations', 'counts'] as const,
    detail: (ws: string, id: string) => ['ws', ws, 'conversations', 'detail', id] as const,
    messages: (ws: string, id: string) => ['ws', ws, 'conversations', 'detail', id, 'messages'] as const,
    events: (ws: string, id: string) => ['ws', ws, 'conversations', 'detail', id, 'events'] as const,
  },
  customers: {
    all: (ws: string) => ['ws', ws, 'customers'] as const,
    lists: (ws: string) => ['ws', ws, 'customers', 'list'] as const,
    list: (ws: string, filters: CustomerFilters) => ['ws', ws, 'customers', 'list', filters] as const,
    detail: (ws: string, id: string) => ['ws', ws, 'customers', id] as const,
  },
  /** The global search: its results sit under the conversations key, so a conversation change refreshes them. */
  search: (ws: string, params: SearchParams) => ['ws', ws, 'conversations', 'search', params] as const,
  users: (ws: string) => ['ws', ws, 'users'] as const,
  invitations: (ws: string) => ['ws', ws, 'invitations'] as const,
  teams: (ws: string) => ['ws', ws, 'teams'] as const,
  inboxes: (ws: string) => ['ws', ws, 'inboxes'] as const,
  /** Under the inboxes key: saving an inbox refreshes which of its addresses are proven. */
  emailOwnership: (ws: string, inboxId: string) => ['ws', ws, 'inboxes', inboxId, 'email-ownership'] as const,
  /** One inbox with its settings (admin), under the inboxes key: any inbox change refreshes it. */
  inbox: (ws: string, inboxId: string) => ['ws', ws, 'inboxes', inboxId, 'detail'] as const,
  emailReceiving: (ws: string, inboxId: string) => ['ws', ws, 'inboxes', inboxId, 'email-receiving'] as const,
  tokens: (ws: string) => ['ws', ws, 'tokens'] as const,
  macros: (ws: string) => ['ws', ws, 'macros'] as const,
  tags: (ws: string) => ['ws', ws, 'tags'] as const,
  /** The inline (cid:) images of one email message, as data: URLs; files never change, so never refetched. */
  inlineImages: (ws: string, messageId: string) => ['ws', ws, 'inline-images', messageId] as const,
  savedViews: (ws: string) => ['ws', ws, 'saved-views'] as const,
  notifications: {
    all: (ws: string) => ['ws', ws, 'notifications'] as const,
    list: (ws: string) => ['ws', ws, 'notifications', 'list'] as const,
    count: (ws: string) => ['ws', ws, 'notifications', 'count'] as const,
    preferences: (ws: string) => ['ws', ws, 'notifications', 'preferences'] as const,
  },
};
