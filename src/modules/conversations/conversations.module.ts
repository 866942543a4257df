import type { RapportModule } from '../module.js';
import { conversationRoutes } from './conversations.routes.js';
import { conversationTasks } from './conversations.tasks.js';

/** Conversations, their messages and timeline, and their background work (waking snoozed ones). */
export const conversationsModule: RapportModule = {
  name: 'conversations',
  workspaceRoutes: conversationRoutes,
  tasks: conversationTasks,
};
