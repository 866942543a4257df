import type { RapportModule } from '../module.js';
import { memberRoutes } from './members.routes.js';

export const membersModule: RapportModule = { name: 'members', workspaceRoutes: memberRoutes };
