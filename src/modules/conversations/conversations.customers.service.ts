import { inWorkspaceTx } from '../../db/tenancy.js';
import type { Visibility } from '../auth/roles.js';
import type { WorkspaceContext } from '../context.js';
import { inboxForChannel } from '../inboxes/inboxes.service.js';
import { conversationsRepository as repo } from './conversations.repository.js';

/**
 * What the customers module shows of a customer's conversations. A file of its own, not
 * conversations.service.ts: that service calls the customers service (find or create by identity),
 * and this keeps the two from importing each other.
 */
export async function recentConversationsOfCustomer(deps: WorkspaceContext, customerId: string, visibility: Visibility = 'internal') {
  const { rows, channels } = await inWorkspaceTx(deps, async (tx) => {
    const rows = await repo.recentOfCustomer(tx, deps.workspaceId, customerId, visibility);
    // Each conversation's channel is its inbox's, from the inboxes module: one look-up per distinct inbox (a customer writes through few).
    const channels = new Map<string, string>();
    for (const inboxId of new Set(rows.map((r) => r.inbox_id))) channels.set(inboxId, (await inboxForChannel(tx, deps.workspaceId, inboxId))?.channel ?? 'api');
    return { rows, channels };
  });
  // A client viewer's time moves only with public activity (0260): no note moves it.
  return rows.map((r) => ({
    id: r.id,
    number: Number(r.number),
    inboxId: r.inbox_id,
    channel: channels.get(r.inbox_id)!,
    subject: r.subject,
    status: r.status,
    lastActivityAt: (visibility === 'internal' ? r.last_activity_at : r.last_public_activity_at).toISOString(),
  }));
}

/** Which of these customers have a conversation still to work on (open, pending or snoozed): the customer list's filter. */
export async function customersWithOpenConversation(deps: WorkspaceContext, customerIds: string[]): Promise<Set<string>> {
  if (customerIds.length === 0) return new Set();
  return new Set(await inWorkspaceTx(deps, (tx) => repo.customersWithOpenConversation(tx, deps.workspaceId, customerIds)));
}
