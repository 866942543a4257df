import type { AddressInfo } from 'node:net';
import { publicUrl } from '../../config.js';
import { systemMailerFrom } from '../../lib/system-mail.js';
import type { Deps } from '../context.js';
import type { RapportModule } from '../module.js';
import { notificationRoutes } from './notifications.routes.js';
import { emailNotification, NOTIFICATION_EMAIL_TASK } from './notifications.service.js';
import { notificationsSubscriber } from './notifications.subscribers.js';

/** The address people open, per server: known once HTTP listens (tests listen on port 0). */
const addressOf = new WeakMap<Deps, () => string>();

export const notificationsModule: RapportModule = {
  name: 'notifications',
  workspaceRoutes: (app, deps) => {
    addressOf.set(deps, () => publicUrl(deps.config, (app.server.address() as AddressInfo | null)?.port ?? deps.config.port));
    notificationRoutes(app, deps);
  },
  subscribers: (deps) => [notificationsSubscriber(deps)],
  tasks: (deps) => ({
    [NOTIFICATION_EMAIL_TASK]: async (payload) => {
      const { workspaceId, notificationId } = payload as { workspaceId: string; notificationId: string };
      const url = addressOf.get(deps)?.() ?? publicUrl(deps.config);
      await emailNotification({ pool: deps.pool, clock: deps.clock, mailer: systemMailerFrom(deps.config, url), publicUrl: url }, workspaceId, notificationId);
    },
  }),
};
