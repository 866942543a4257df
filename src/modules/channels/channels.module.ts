import type { RapportModule } from '../module.js';
import { apiChannel } from './channels.registry.js';
import { CHANNEL_SEND_TASK, channelSendTask, outboundSubscriber, SWEEP_CRONTAB, SWEEP_TASK, sweepTask } from './channels.outbound.js';
import { deliveryRoutes } from './channels.delivery.routes.js';
import { channelWebhookRoutes } from './channels.routes.js';

/**
 * The channel core: the API channel, the one outbound job every sending channel runs through, and
 * the public webhook route. Channels themselves (email, ...) are modules that list their adapters.
 */
export const channelsModule: RapportModule = {
  name: 'channels',
  channels: [apiChannel],
  plugins: (app, server) => channelWebhookRoutes(app, server),
  workspaceRoutes: deliveryRoutes,
  subscribers: (server) => [outboundSubscriber(server)],
  tasks: (server) => ({ [CHANNEL_SEND_TASK]: channelSendTask(server), [SWEEP_TASK]: sweepTask(server) }),
  // Replies whose job was lost are re-enqueued or failed (channels.outbound.ts, the sweeper).
  crontab: [SWEEP_CRONTAB],
};
