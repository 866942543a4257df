import type { RapportModule } from '../module.js';
import { teamRoutes } from './teams.routes.js';

export const teamsModule: RapportModule = { name: 'teams', workspaceRoutes: teamRoutes };
