import { MESSAGE_OWNER } from '../attachments/attachments.service.js';
import type { RapportModule } from '../module.js';
import { existingMessageIds } from './conversations.channels.js';
import { outboundConversationRoutes } from './conversations.outbound.routes.js';
import { conversationRoutes } from './conversations.routes.js';
import { conversationTasks } from './conversations.tasks.js';

/** Conversations, their messages and timeline, and their background work (waking snoozed ones). */
export const conversationsModule: RapportModule = {
  name: 'conversations',
  workspaceRoutes: (app, server) => {
    conversationRoutes(app, server);
    outboundConversationRoutes(app, server);
  },
  tasks: conversationTasks,
  // A message's files go with the message (the attachments collector asks which still exist).
  attachmentOwners: [{ kind: MESSAGE_OWNER, existing: existingMessageIds }],
};
