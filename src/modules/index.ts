import { authModule } from './auth/auth.module.js';
import { attachmentsModule } from './attachments/attachments.module.js';
import { channelsModule } from './channels/channels.module.js';
import { emailModule } from './channels/email/email.module.js';
import { conversationsModule } from './conversations/conversations.module.js';
import { customersModule } from './customers/customers.module.js';
import { inboxesModule } from './inboxes/inboxes.module.js';
import { invitationsModule } from './invitations/invitations.module.js';
import { macrosModule } from './macros/macros.module.js';
import { membersModule } from './members/members.module.js';
import { notificationsModule } from './notifications/notifications.module.js';
import type { RapportModule } from './module.js';
import { realtimeModule } from './realtime/realtime.module.js';
import { searchModule } from './search/search.module.js';
import { teamsModule } from './teams/teams.module.js';
import { viewsModule } from './views/views.module.js';
import { webModule } from './web/web.module.js';
import { workspacesModule } from './workspaces/workspaces.module.js';

/**
 * The core domains: every server runs them, whatever else it plugs in (a test that starts a server
 * with `modules: []` still has sign-in, workspaces and conversations).
 */
export const coreModules: RapportModule[] = [
  authModule,
  workspacesModule,
  customersModule,
  conversationsModule,
  teamsModule,
  inboxesModule,
  // The channel core (the API channel, the one outbound job, the webhook route) runs with any set of channels.
  channelsModule,
];

/** Every other module the server runs by default, in start order. Add a line here to plug a new domain in. */
export const modules: RapportModule[] = [attachmentsModule, emailModule, realtimeModule, macrosModule, viewsModule, searchModule, invitationsModule, membersModule, notificationsModule, webModule];
