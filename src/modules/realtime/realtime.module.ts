import websocket from '@fastify/websocket';
import type { App, ServerDeps } from '../../http/types.js';
import type { RapportModule } from '../module.js';
import { RealtimeHub, type HubOptions } from './realtime.hub.js';
import { MAX_CLIENT_FRAME_BYTES } from './realtime.protocol.js';
import { realtimeRoutes } from './realtime.routes.js';

/**
 * Realtime for the agent app: one WebSocket per browser tab, fed from the events table through
 * PostgreSQL LISTEN/NOTIFY (see realtime.hub.ts). One hub per running server (tests and the benchmark
 * run several in one process), created with the server's routes and started once it listens.
 */
export function createRealtimeModule(opts: HubOptions = {}): RapportModule & { hubFor(server: ServerDeps): RealtimeHub } {
  const hubs = new WeakMap<ServerDeps, RealtimeHub>();
  const hubFor = (server: ServerDeps) => {
    let hub = hubs.get(server);
    if (!hub) hubs.set(server, (hub = new RealtimeHub(server.pool, server.log, opts)));
    return hub;
  };
  return {
    name: 'realtime',
    hubFor,
    plugins: async (app: App, server: ServerDeps) => {
      // Another module (the chat widget) may have registered the WebSocket server already.
      if (!app.hasDecorator('websocketServer')) {
        await app.register(websocket, { options: { maxPayload: MAX_CLIENT_FRAME_BYTES, perMessageDeflate: false } });
      }
      realtimeRoutes(app, server, hubFor(server));
    },
    start: async (server: ServerDeps) => {
      const hub = hubFor(server);
      await hub.start();
      return { stop: () => hub.stop() };
    },
  };
}

export const realtimeModule = createRealtimeModule();
