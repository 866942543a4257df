import type { RapportModule } from '../module.js';
import { viewRoutes } from './views.routes.js';

/** Inbox views: the counts beside each view in the agent app. */
export const viewsModule: RapportModule = { name: 'views', workspaceRoutes: viewRoutes };
