import type { RapportModule } from '../module.js';
import { acceptInvitationRoute, invitationRoutes } from './invitations.routes.js';

export const invitationsModule: RapportModule = {
  name: 'invitations',
  workspaceRoutes: invitationRoutes,
  apiRoutes: acceptInvitationRoute,
};
