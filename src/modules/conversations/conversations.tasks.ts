import type { Deps } from '../context.js';
import type { Task } from 'graphile-worker';

import { systemActor } from '../../events/events.types.js';
import { WAKE_SNOOZED_TASK, wakeSnoozedConversation } from './conversations.service.js';

/**
 * A snoozed conversation comes back to the inbox when its time is up. The job is queued for
 * `snoozedUntil` when the conversation is snoozed (one job per conversation: snoozing again moves it).
 */
export function conversationTasks(server: Deps): Record<string, Task> {
  return {
    [WAKE_SNOOZED_TASK]: async (payload) => {
      const { workspaceId, conversationId } = payload as { workspaceId: string; conversationId: string };
      await wakeSnoozedConversation({ pool: server.pool, clock: server.clock, workspaceId, actor: systemActor }, conversationId);
    },
  };
}
