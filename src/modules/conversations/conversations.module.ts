import type { RapportModule } from '../module.js';
import { conversationTasks } from './conversations.tasks.js';

/** Conversations' background work (their routes are part of the core API in http/app.ts). */
export const conversationsModule: RapportModule = {
  name: 'conversations',
  tasks: conversationTasks,
};
