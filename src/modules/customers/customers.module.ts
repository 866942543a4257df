import type { RapportModule } from '../module.js';
import { customerRoutes } from './customers.routes.js';

export const customersModule: RapportModule = { name: 'customers', workspaceRoutes: customerRoutes };
