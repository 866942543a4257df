import type { AppPlugin, WorkspaceRouteModule } from '../http/app.js';
import type { ServerDeps } from '../http/types.js';
import type { Tasks } from '../jobs/queue.js';
import type { Subscriber } from '../events/subscribers.js';
import type { ChannelAdapter } from './channels/channels.registry.js';

/**
 * How a domain plugs into the server without main.ts knowing its insides: its channel adapters,
 * routes inside a workspace, top-level plugins (web app, WebSocket), event subscribers, job tasks,
 * and anything it runs beside the HTTP server (an SMTP listener, a poller). Listed in modules/index.ts.
 */
export interface RapportModule {
  name: string;
  channels?: ChannelAdapter[];
  workspaceRoutes?: WorkspaceRouteModule;
  plugins?: AppPlugin;
  subscribers?: (server: ServerDeps) => Subscriber[];
  tasks?: (server: ServerDeps) => Tasks;
  /** Started after the HTTP server listens; stopped before the database on shutdown. */
  start?: (server: ServerDeps) => Promise<{ stop(): Promise<void> } | void>;
}
