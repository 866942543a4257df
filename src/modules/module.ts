import type { Subscriber } from '../events/subscribers.js';
import type { App } from '../http/types.js';
import type { Tasks } from '../jobs/queue.js';
import type { AttachmentOwnerKind } from './attachments/attachments.owners.js';
import type { ChannelDefinition } from './channels/channels.registry.js';
import type { Deps } from './context.js';

/** Routes a module adds under /api/v1, outside any workspace (sign-in, the workspace list, invitation accept). */
export type ApiRouteModule = (app: App, deps: Deps) => void;
/** Routes a module adds inside /api/v1/workspaces/:workspaceId, behind the workspace scope and idempotency. */
export type WorkspaceRouteModule = (app: App, deps: Deps) => void;
/** Top-level plugins (the web app, WebSocket endpoints, ...), registered after every API route. */
export type AppPlugin = (app: App, deps: Deps) => void | Promise<void>;

/**
 * How a domain plugs into the server without main.ts knowing its insides: its channel adapters,
 * routes (outside or inside a workspace), top-level plugins (web app, WebSocket), event subscribers,
 * job tasks, and anything it runs beside the HTTP server (an SMTP listener, a poller). Core domains
 * and plug-ins alike are listed in modules/index.ts; http/app.ts mounts only what modules declare.
 */
export interface RapportModule {
  name: string;
  channels?: ChannelDefinition[];
  apiRoutes?: ApiRouteModule;
  workspaceRoutes?: WorkspaceRouteModule;
  plugins?: AppPlugin;
  subscribers?: (deps: Deps) => Subscriber[];
  /** Job tasks; `modules` is every running module (a collector reads what the others declare). */
  tasks?: (deps: Deps, modules: readonly RapportModule[]) => Tasks;
  /** Recurring runs of its tasks, as graphile-worker crontab lines (e.g. an hourly collector). */
  crontab?: string[];
  /** The attachment owner kinds whose rows this module owns: the attachments collector asks it which owners still exist. */
  attachmentOwners?: AttachmentOwnerKind[];
  /** Started after the HTTP server listens; stopped before the database on shutdown. */
  start?: (deps: Deps) => Promise<{ stop(): Promise<void> } | void>;
}
