import { defineSubscriber, type Subscriber } from '../../events/subscribers.js';
import type { Deps } from '../context.js';
import { notifyOf } from './notifications.service.js';

/**
 * conversation.assigned → the new assignee is told (unless they assigned themselves); message.created
 * → the assignee is told of a customer's reply, and the members a note mentions are told. Replies to
 * customers make nothing, so the dispatcher makes no job for them.
 */
export function notificationsSubscriber(deps: Deps): Subscriber<'conversation.assigned' | 'message.created'> {
  return defineSubscriber({
    name: 'notifications.notify',
    types: ['conversation.assigned', 'message.created'],
    accepts: (event) => (event.type === 'conversation.assigned' ? event.data.to !== null : event.data.messageType !== 'outbound'),
    async handle(event) {
      await notifyOf({ pool: deps.pool, clock: deps.clock, log: deps.log, emailAvailable: deps.config.systemMailSmtpUrl !== null }, event);
    },
  });
}
