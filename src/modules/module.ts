import type { Deps } from './context.js';
import type { AppPlugin, WorkspaceRouteModule } from '../http/app.js';

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
  subscribers?: (server: Deps) => Subscriber[];
  tasks?: (server: Deps) => Tasks;
  /** Recurring runs of its tasks, as graphile-worker crontab lines (e.g. an hourly collector). */
  crontab?: string[];
  /** Started after the HTTP server listens; stopped before the database on shutdown. */
  start?: (server: Deps) => Promise<{ stop(): Promise<void> } | void>;
}
