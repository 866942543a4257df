import type { RapportModule } from '../module.js';
import { authRoutes } from './auth.routes.js';

/** Sign-in, sessions, password resets, and the signed-in person's workspaces (list and create). */
export const authModule: RapportModule = { name: 'auth', apiRoutes: authRoutes };
