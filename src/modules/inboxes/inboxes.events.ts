import { Type } from 'typebox';
import { AGENTS_AND_CLIENTS, defineEvents } from '../../events/define.js';

// The payload names the inbox only: its settings (hosts, users, secrets) are never in an event (I1).
const InboxRef = Type.Object({ inboxId: Type.String({ format: 'uuid', description: 'the inbox' }) }, { additionalProperties: false });

/** Inbox changes are events so every open agent app refreshes its inbox list and settings (realtime). */
export const inboxEvents = defineEvents({
  'inbox.updated': { description: 'An inbox was renamed or its settings changed (the payload names the inbox only).', scope: 'workspace', audience: AGENTS_AND_CLIENTS, data: InboxRef },
  'inbox.disabled': {
    description: 'An inbox was disabled: it takes no new mail and sends no replies; its conversations stay.',
    scope: 'workspace',
    audience: AGENTS_AND_CLIENTS,
    data: InboxRef,
  },
  'inbox.enabled': { description: 'A disabled inbox was enabled again.', scope: 'workspace', audience: AGENTS_AND_CLIENTS, data: InboxRef },
  'inbox.deleted': { description: 'An inbox without conversations was deleted, with its settings and addresses.', scope: 'workspace', audience: AGENTS_AND_CLIENTS, data: InboxRef },
});
