import type { RapportModule } from '../module.js';
import { workspaceRoutes } from './workspaces.routes.js';

/** The workspace itself, its member list and its API tokens. */
export const workspacesModule: RapportModule = { name: 'workspaces', workspaceRoutes };
