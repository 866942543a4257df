import type { RapportModule } from '../module.js';
import { searchRoutes } from './search.routes.js';

/** One search for everything (issue #10): conversations and customers through their owners' services. Owns no table. */
export const searchModule: RapportModule = { name: 'search', workspaceRoutes: searchRoutes };
