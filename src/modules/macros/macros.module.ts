import type { RapportModule } from '../module.js';
import { macroRoutes } from './macros.routes.js';

export const macrosModule: RapportModule = { name: 'macros', workspaceRoutes: macroRoutes };
