import type { PoolClient } from '../../db/pool.js';
import { withSystem } from '../../db/tenancy.js';

import { generatePassword } from '../auth/secrets.js';
import type { WorkspaceContext, Deps } from '../context.js';
import { addMessage, createConversation, updateConversation } from '../conversations/conversations.service.js';
import { updateCustomer } from '../customers/customers.service.js';
import { createSavedView } from '../views/views.service.js';
import { createTeam } from '../teams/teams.service.js';
import { createInbox } from '../inboxes/inboxes.service.js';
import { markInboxOwnershipVerified } from '../channels/email/email.ownership.service.js';
import { addMember, createUserAccount, createWorkspace } from '../workspaces/workspaces.service.js';
import { hasAnyWorkspace } from '../workspaces/workspaces.accounts.service.js';

const CUSTOMERS = [
  { name: 'Maria Lopez', email: 'maria.lopez@example.com', subject: 'Order #5521 arrived damaged', body: 'Hi, the mug in my order arrived broken. Can you send a replacement?' },
  { name: 'Kenji Watanabe', email: 'kenji@example.jp', subject: 'Cannot reset my password', body: 'The reset link says it has expired every time I click it.' },
  { name: 'Amara Okafor', email: 'amara.okafor@example.ng', subject: 'Invoice for October', body: 'Could you send me the invoice for October with our VAT number on it?' },
  { name: 'Lukas Becker', email: 'lukas.becker@example.de', subject: 'Wrong size delivered', body: 'I ordered the jacket in M and received an L. How do I exchange it?' },
  { name: 'Priya Sharma', email: 'priya@example.in', subject: 'Upgrade to the annual plan', body: 'We would like to move to the annual plan. Is there a discount for 20 seats?' },
  { name: 'Tom Becker', email: 'tom@example.co.uk', subject: 'Delivery to a parcel locker?', body: 'Can you deliver to a parcel locker instead of my home address?' },
  { name: 'Sofia Rossi', email: 'sofia.rossi@example.it', subject: 'Charged twice', body: 'My card was charged twice for the same order. Please refund one of them.' },
  { name: 'Chen Wei', email: 'chen.wei@example.cn', subject: 'API rate limits', body: 'What are the rate limits on the orders API? We hit 429s at about 10 requests a second.' },
];

/** The demo's people besides its owner, one per role a visitor may want to try (printed at start, listed in the README). */
export const DEMO_MEMBERS = [
  { email: 'sam.agent@rapport.local', name: 'Sam Agent', role: 'agent' },
  { email: 'rio.supervisor@rapport.local', name: 'Rio Supervisor', role: 'supervisor' },
  { email: 'casey.client@rapport.local', name: 'Casey Client', role: 'client_viewer' },
] as const;

export interface DemoSeeded {
  email: string;
  password: string;
  generated: boolean;
  /** Everyone else in the demo: they sign in with the same password (issue #10, "the demo's agents have a documented way in"). */
  members: { email: string; role: string }[];
}

/**
 * On an empty database: the owner account, a demo workspace with two teams, an agent, a supervisor
 * and a client viewer, an API inbox, customers and conversations in every state. Returns the
 * credentials to print once: the owner's, and the other members', who share the owner's password.
 */
export async function seedDemo(server: Deps): Promise<DemoSeeded | null> {
  // All or nothing: a first start stopped half-way leaves an empty database, and the next start
  // seeds again and prints a password that works.
  // The use cases below run in this one (system) transaction by being given it: none commits alone.
  return withSystem(server.pool, (tx) => seed({ ...server, tx }));
}

async function seed(server: Deps & { tx: PoolClient }): Promise<DemoSeeded | null> {
  const { pool, clock, config, tx } = server;
  // Two first starts at once (two instances): the second waits here, then finds the workspace.
  await tx.query('select pg_advisory_xact_lock(7283948)');
  if (await hasAnyWorkspace(server)) return null;

  const password = config.adminPassword ?? generatePassword();
  // The first owner is the instance admin: the one who may create further workspaces.
  const ownerId = await createUserAccount(server, { email: config.adminEmail, name: 'Alex Admin', password, instanceAdmin: true });
  const { id: workspaceId } = await createWorkspace(server, { name: 'Demo Company', slug: 'demo', ownerUserId: ownerId });
  const asOwner: WorkspaceContext = { pool, clock, workspaceId, actor: { type: 'user', id: ownerId }, tx };

  // A demo nobody but its owner can sign in to shows only one role: the others share the owner's
  // password (a demo's, printed at start; a real workspace invites people, who choose their own).
  const members = [];
  for (const m of DEMO_MEMBERS) members.push(await addMember(asOwner, 'owner', { ...m, password }));
  const [sam, rio] = members;
  const support = await createTeam(asOwner, { name: 'Support', memberIds: [ownerId, sam.id] });
  const billing = await createTeam(asOwner, { name: 'Billing', memberIds: [rio.id] });

  // An email inbox with one proven address and one still waiting for proof (SECURITY H2), so the
  // inbox screen shows both states; only the proven one receives mail.
  if (server.channels.kinds().includes('email')) {
    const email = await createInbox(
      { ...asOwner, channels: server.channels, outbound: server.outbound },
      {
        name: 'Email',
        channel: 'email',
        settings: { addresses: ['support@demo.rapport.local', 'billing@demo.rapport.local'] },
      },
    );
    await markInboxOwnershipVerified(server, workspaceId, email.id, ['support@demo.rapport.local']);
  }

  const asCustomer = { ...asOwner, actor: { type: 'system' as const, id: null } };
  let firstCustomerId: string | undefined;
  for (const [i, c] of CUSTOMERS.entries()) {
    const conversation = await createConversation(asCustomer, {
      customer: { name: c.name, email: c.email },
      subject: c.subject,
      message: { body: c.body },
      priority: i === 6 ? 'urgent' : i === 2 ? 'high' : 'normal',
      tags: i % 3 === 0 ? ['orders'] : i % 3 === 1 ? ['account'] : ['billing'],
    });
    firstCustomerId ??= conversation.customer.id;
    const team = c.subject.match(/invoice|charged|plan/i) ? billing.id : support.id;
    if (i % 4 === 1) {
      await updateConversation(asOwner, conversation.id, { assigneeId: sam.id, teamId: team });
      await addMessage({ ...asOwner, actor: { type: 'user', id: sam.id } }, conversation.id, { type: 'reply', body: `Hi ${c.name.split(' ')[0]}, thanks for writing. I am looking into it now.` });
      await updateConversation(asOwner, conversation.id, { status: 'pending' });
    } else if (i % 4 === 2) {
      await updateConversation(asOwner, conversation.id, { assigneeId: ownerId, teamId: team });
      await addMessage(asOwner, conversation.id, { type: 'note', body: 'Checked the order history: this is the second time this month.' });
      // A mention: the owner's bell has something in it on the first sign-in.
      if (i === 2)
        await addMessage({ ...asOwner, actor: { type: 'user', id: sam.id } }, conversation.id, { type: 'note', body: '@Alex Admin they were charged twice last time too. Can you approve a refund?' });
    } else if (i === 3) {
      await addMessage(asOwner, conversation.id, { type: 'reply', body: 'We have sent you a prepaid return label by email.' });
      await updateConversation(asOwner, conversation.id, { status: 'resolved' });
    } else {
      await updateConversation(asOwner, conversation.id, { teamId: team });
    }
  }
  // A customer profile with agents' notes, a view the supervisor shares and one an agent keeps.
  await updateCustomer(asOwner, firstCustomerId!, { notes: 'Prefers email. A customer since 2021; ordered gifts for the whole team last December.' });
  await createSavedView(
    { ...asOwner, actor: { type: 'user', id: rio.id }, role: 'supervisor' },
    { name: 'Billing, waiting longest', filters: { team: billing.id, status: ['open', 'pending'], sort: 'waiting_longest' }, shared: true },
  );
  await createSavedView({ ...asOwner, actor: { type: 'user', id: sam.id }, role: 'agent' }, { name: 'My pending', filters: { assignee: 'me', status: ['pending'] } });
  return { email: config.adminEmail, password, generated: config.adminPassword === undefined, members: DEMO_MEMBERS.map((m) => ({ email: m.email, role: m.role })) };
}
