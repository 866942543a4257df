import type { Deps } from '../context.js';
import type { App } from '../../http/types.js';
import type { RapportModule } from '../module.js';
import { acceptInvitationRoute, invitationRoutes } from './invitations.routes.js';

export const invitationsModule: RapportModule = {
  name: 'invitations',
  workspaceRoutes: invitationRoutes,
  plugins: (app: App, server: Deps) => acceptInvitationRoute(app, server),
};
