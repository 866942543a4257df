import type { RapportModule } from './module.js';
import { apiChannel } from './channels/channels.registry.js';
import { attachmentsModule } from './attachments/attachments.module.js';
import { emailModule } from './channels/email/email.module.js';
import { conversationsModule } from './conversations/conversations.module.js';
import { realtimeModule } from './realtime/realtime.module.js';
import { webModule } from './web/web.module.js';
import { macrosModule } from './macros/macros.module.js';
import { viewsModule } from './views/views.module.js';
import { invitationsModule } from './invitations/invitations.module.js';
import { membersModule } from './members/members.module.js';

/** Every module the server runs, in start order. Add a line here to plug a new domain in. */
export const modules: RapportModule[] = [
  { name: 'api-channel', channels: [apiChannel] },
  attachmentsModule,
  emailModule,
  conversationsModule,
  realtimeModule,
  macrosModule,
  viewsModule,
  invitationsModule,
  membersModule,
  webModule,
];
