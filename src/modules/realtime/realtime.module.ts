import websocket from '@fastify/websocket';
import type { App } from '../../http/types.js';
import type { Deps } from '../context.js';
import type { RapportModule } from '../module.js';
import { CustomerCredentials, loadCustomerCredentialKey } from './realtime.customer-credentials.js';
import { customerCredentialRoutes } from './realtime.customer-credentials.routes.js';
import { RealtimeHub, type HubOptions } from './realtime.hub.js';
import { MAX_CLIENT_FRAME_BYTES } from './realtime.protocol.js';
import { realtimeRoutes } from './realtime.routes.js';

/**
 * Realtime for the agent app, and for customers (chat widget, portal) through signed customer
 * credentials: one WebSocket per browser tab, fed from the events table through PostgreSQL
 * LISTEN/NOTIFY (see realtime.hub.ts), each event routed to the audiences that may see it. One hub per
 * running server (tests and the benchmark run several in one process), created with the server's
 * routes and started once it listens.
 */
export function createRealtimeModule(opts: HubOptions = {}): RapportModule & { hubFor(server: Deps): RealtimeHub; credentialsFor(server: Deps): Promise<CustomerCredentials> } {
  const hubs = new WeakMap<Deps, RealtimeHub>();
  const credentials = new WeakMap<Deps, Promise<CustomerCredentials>>();
  const hubFor = (server: Deps) => {
    let hub = hubs.get(server);
    if (!hub) {
      hub = new RealtimeHub(server.pool, server.log, opts);
      hubs.set(server, hub);
    }
    return hub;
  };
  const credentialsFor = (server: Deps) => {
    let c = credentials.get(server);
    if (!c) {
      c = loadCustomerCredentialKey(server.config).then((key) => new CustomerCredentials(key, server.clock));
      credentials.set(server, c);
    }
    return c;
  };
  return {
    name: 'realtime',
    hubFor,
    credentialsFor,
    workspaceRoutes: (app: App, server: Deps) => customerCredentialRoutes(app, server, credentialsFor(server)),
    plugins: async (app: App, server: Deps) => {
      // Another module (the chat widget) may have registered the WebSocket server already.
      if (!app.hasDecorator('websocketServer')) {
        await app.register(websocket, { options: { maxPayload: MAX_CLIENT_FRAME_BYTES, perMessageDeflate: false } });
      }
      // Loaded before the first handshake: a DATA_DIR that cannot keep the secret stops the start, not a request.
      await credentialsFor(server);
      realtimeRoutes(app, server, hubFor(server), credentialsFor(server));
    },
    start: async (server: Deps) => {
      const hub = hubFor(server);
      await hub.start();
      return { stop: () => hub.stop() };
    },
  };
}

export const realtimeModule = createRealtimeModule();
