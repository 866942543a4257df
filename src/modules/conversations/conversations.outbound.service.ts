import { inWorkspaceTx } from '../../db/tenancy.js';
import type { WorkspaceContext } from '../context.js';
import { customerForChannel } from '../customers/customers.service.js';
import { inboxForChannel } from '../inboxes/inboxes.service.js';
import { conversationErrors } from './conversations.errors.js';
import type { StartOutboundInput } from './conversations.outbound.schemas.js';
import { conversationsRepository as repo, toConversationView } from './conversations.repository.js';
import type { ConversationView } from './conversations.schemas.js';
import { appendMessage } from './conversations.service.js';

/**
 * An agent starts a conversation with a customer by email (issue #10). The conversation opens with
 * the agent's message as an outbound reply, so it is sent exactly as any reply is: the
 * `channels.outbound` subscriber queues it for the inbox's adapter and the one `channels.send` job
 * delivers it (Message-ID fixed up front, delivery state on the message). The address is one the
 * customer holds (never any address typed in: that would mail a stranger from the workspace), kept
 * on the message as the channel's `recipient` (`metadata.<channel>.recipient`), which the adapter writes to. The inbox must be one
 * whose channel sends to email identities; no code here names a channel.
 */
export async function startOutboundConversation(deps: WorkspaceContext<'channels'>, input: StartOutboundInput): Promise<ConversationView> {
  return inWorkspaceTx(deps, async (tx) => {
    const ws = deps.workspaceId;
    const customer = await customerForChannel(tx, ws, input.customerId);
    if (!customer) throw conversationErrors.customerNotFound();
    const inbox = await inboxForChannel(tx, ws, input.inboxId);
    if (!inbox) throw conversationErrors.inboxNotFound();
    const adapter = deps.channels.find(inbox.channel);
    if (!adapter?.outbound || !adapter.identityKinds?.some((k) => k.kind === 'email')) throw conversationErrors.inboxCannotEmail();
    const to = input.to.trim().toLowerCase();
    if (!customer.identities.some((i) => i.kind === 'email' && i.value === to)) throw conversationErrors.notCustomersAddress();
    const at = deps.clock.now();
    const number = await repo.nextNumber(tx, ws);
    const conversationId = await repo.insert(tx, { workspaceId: ws, number, inboxId: inbox.id, customerId: customer.id, subject: input.subject, priority: 'normal', tags: [], at });
    const author = { type: deps.actor.type === 'token' ? ('token' as const) : ('user' as const), id: deps.actor.id };
    await appendMessage(tx, deps, { conversationId, type: 'outbound', author, body: input.body, html: input.html, metadata: { [inbox.channel]: { recipient: to } }, at }, [
      { workspaceId: ws, conversationId, type: 'conversation.created', actor: deps.actor, data: { number, inboxId: inbox.id, customerId: customer.id }, at },
    ]);
    return toConversationView((await repo.find(tx, ws, conversationId))!);
  });
}
