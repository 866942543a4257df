import type { RapportModule } from '../module.js';
import { apiChannel } from './channels.registry.js';
import { CHANNEL_SEND_TASK, channelSendTask, outboundSubscriber } from './channels.outbound.js';
import { channelWebhookRoutes } from './channels.routes.js';

/**
 * The channel core: the API channel, the one outbound job every sending channel runs through, and
 * the public webhook route. Channels themselves (email, ...) are modules that list their adapters.
 */
export const channelsModule: RapportModule = {
  name: 'channels',
  channels: [apiChannel],
  plugins: (app, server) => channelWebhookRoutes(app, server),
  subscribers: (server) => [outboundSubscriber(server)],
  tasks: (server) => ({ [CHANNEL_SEND_TASK]: channelSendTask(server) }),
};
