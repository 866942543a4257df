import type { RapportModule } from '../module.js';
import { inboxRoutes } from './inboxes.routes.js';

export const inboxesModule: RapportModule = { name: 'inboxes', workspaceRoutes: inboxRoutes };
