import { defineError } from '../../lib/errors.js';

export const inboxErrors = {
  /** An unknown id and another workspace's answer alike (T1). */
  notFound: defineError('inboxes.not_found', 404, 'No such inbox'),
  /** A reply through a disabled inbox: nothing is written or sent; notes still work. */
  disabled: defineError('inboxes.disabled', 409, 'This inbox is disabled, so it sends no replies. An admin can enable it again in the inbox settings.'),
  /** Deleting would orphan conversations: disabling keeps them (docs/ARCHITECTURE.md, inboxes). */
  hasConversations: defineError(
    'inboxes.has_conversations',
    409,
    'This inbox still holds conversations, so it cannot be deleted. Disable it instead: its conversations stay readable and no new mail comes in.',
  ),
  /** The API inbox a workspace's REST conversations land in. */
  lastApiInbox: defineError('inboxes.last_api_inbox', 409, 'This is the workspace’s API inbox, where conversations created through the API land; it cannot be deleted or disabled.'),
};
