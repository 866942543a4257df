import { defineSubscriber, type Subscriber } from '../../events/subscribers.js';
import type { Deps } from '../context.js';
import { notifyOf } from './notifications.service.js';

/**
 * conversation.assigned → the new assignee is told (unless they assigned themselves); message.created
 * → the assignee is told of a customer's reply, and the members a note mentions are told; a reply's
 * delivery that failed for good (message.delivery_changed, failed) → its writer is told. Replies to
 * customers, and other delivery changes, make nothing, so the dispatcher makes no job for them.
 */
export function notificationsSubscriber(deps: Deps): Subscriber<'conversation.assigned' | 'message.created' | 'message.delivery_changed'> {
  return defineSubscriber({
    name: 'notifications.notify',
    types: ['conversation.assigned', 'message.created', 'message.delivery_changed'],
    accepts: (event) =>
      event.type === 'conversation.assigned' ? event.data.to !== null : event.type === 'message.delivery_changed' ? event.data.status === 'failed' : event.data.messageType !== 'outbound',
    async handle(event) {
      await notifyOf({ pool: deps.pool, clock: deps.clock, log: deps.log, emailAvailable: deps.config.systemMailSmtpUrl !== null }, event);
    },
  });
}
