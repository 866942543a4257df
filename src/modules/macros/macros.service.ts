import type { Queryable } from '../../db/pool.js';
import { inWorkspaceTx } from '../../db/tenancy.js';
import { recordEvents } from '../../events/outbox.js';
import { inTx, type WorkspaceContext } from '../context.js';
import { actorName } from '../workspaces/workspaces.service.js';
import { addMessage, getConversation, normalizeTags, updateConversation } from '../conversations/conversations.service.js';
import { macroErrors } from './macros.errors.js';
import { macrosRepository as repo, type MacroRow } from './macros.repository.js';
import type { ApplyInput, CreateMacroInput, MacroActions, MacroView, UpdateMacroInput } from './macros.schemas.js';
import { PLACEHOLDERS, firstName, lastName, render, unknownPlaceholders, type PlaceholderValues } from './macros.template.js';

export function toMacroView(r: MacroRow): MacroView {
  return {
    id: r.id,
    name: r.name,
    body: r.body,
    actions: r.actions,
    createdBy: r.created_by,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
  };
}

function checkBody(body: string): void {
  const unknown = unknownPlaceholders(body);
  if (unknown.length > 0) {
    throw macroErrors.unknownPlaceholder(`Unknown: ${unknown.map((u) => `{{${u}}}`).join(', ')}. Known: ${PLACEHOLDERS.join(', ')}.`, {
      errors: unknown.map((u) => ({ path: 'body', message: `{{${u}}} is not a known placeholder` })),
    });
  }
}

function cleanActions(a: MacroActions | undefined): MacroActions {
  const out: MacroActions = {};
  if (a?.status) out.status = a.status;
  if (a?.priority) out.priority = a.priority;
  if (a?.addTags?.length) out.addTags = normalizeTags(a.addTags);
  return out;
}

/** Macro changes are events too, so every open agent app refreshes its macro list (realtime). */
function macroEvent(tx: Queryable, deps: WorkspaceContext, type: 'macro.created' | 'macro.updated' | 'macro.deleted', macroId: string) {
  return recordEvents(tx, [{ workspaceId: deps.workspaceId, type, actor: deps.actor, data: { macroId }, at: deps.clock.now() }]);
}

export async function listMacros(deps: WorkspaceContext) {
  const rows = await inWorkspaceTx(deps, (tx) => repo.list(tx, deps.workspaceId));
  return { items: rows.map(toMacroView), placeholders: [...PLACEHOLDERS] };
}

export async function createMacro(deps: WorkspaceContext, input: CreateMacroInput): Promise<MacroView> {
  checkBody(input.body);
  const row = await inWorkspaceTx(deps, async (tx) => {
    const inserted = await repo.insert(tx, {
      workspaceId: deps.workspaceId,
      name: input.name.trim(),
      body: input.body,
      actions: cleanActions(input.actions),
      createdBy: deps.actor.type === 'user' ? deps.actor.id : null,
      at: deps.clock.now(),
    });
    if (inserted) await macroEvent(tx, deps, 'macro.created', inserted.id);
    return inserted;
  });
  if (!row) throw macroErrors.nameTaken();
  return toMacroView(row);
}

export async function updateMacro(deps: WorkspaceContext, id: string, input: UpdateMacroInput): Promise<MacroView> {
  if (input.body !== undefined) checkBody(input.body);
  const ws = deps.workspaceId;
  return inWorkspaceTx(deps, async (tx) => {
    const current = await repo.find(tx, ws, id);
    if (!current) throw macroErrors.notFound();
    const name = input.name?.trim() ?? current.name;
    if (await repo.nameTaken(tx, ws, name, id)) throw macroErrors.nameTaken();
    const row = await repo.update(tx, ws, id, {
      name,
      body: input.body ?? current.body,
      actions: input.actions !== undefined ? cleanActions(input.actions) : current.actions,
      at: deps.clock.now(),
    });
    await macroEvent(tx, deps, 'macro.updated', id);
    return toMacroView(row!);
  });
}

export async function deleteMacro(deps: WorkspaceContext, id: string): Promise<void> {
  const removed = await inWorkspaceTx(deps, async (tx) => {
    const done = await repo.remove(tx, deps.workspaceId, id);
    if (done) await macroEvent(tx, deps, 'macro.deleted', id);
    return done;
  });
  if (!removed) throw macroErrors.notFound();
}

/**
 * Renders a macro for one conversation. Without `send` it is a preview for the composer, and nothing
 * is applied. With `send` (the composer sends the agent's edited text as `body`), the text is added
 * as a reply or note and the actions are applied through the conversations use cases, all in one
 * transaction: if any action fails (a tag too many, a conversation gone), the message, the changes
 * and their events are rolled back together and the agent can apply the macro again.
 */
export async function applyMacro(deps: WorkspaceContext, conversationId: string, macroId: string, input: ApplyInput) {
  const ws = deps.workspaceId;
  return inWorkspaceTx(deps, async (tx) => {
    const ctx = inTx(deps, tx);
    const conversation = await getConversation(ctx, conversationId);
    const macro = await repo.find(tx, ws, macroId);
    if (!macro) throw macroErrors.notFound();
    const agentName = await actorName(ctx);
    const values: PlaceholderValues = {
      'customer.name': conversation.customer.name,
      'customer.first_name': firstName(conversation.customer.name),
      'customer.last_name': lastName(conversation.customer.name),
      'customer.email': conversation.customer.email,
      'customer.phone': conversation.customer.phone,
      'conversation.number': String(conversation.number),
      'conversation.subject': conversation.subject,
      'agent.name': agentName,
      'agent.first_name': firstName(agentName),
    };
    const body = render(macro.body, values);
    const actions = macro.actions;
    if (!input.send) return { body, actions, messageId: null, message: null, conversation: null };
    // The composer sends the text the agent edited from the preview; the actions are the macro's own.
    const text = input.body ?? body;
    if (text.trim() === '') throw macroErrors.emptyBody();
    const message = await addMessage(ctx, conversationId, { type: input.type, body: text, lastSeenMessageId: input.lastSeenMessageId, sendAnyway: input.sendAnyway });
    const after = await runMacroActions(ctx, conversationId, actions);
    return { body: text, actions, messageId: message.id, message, conversation: after };
  });
}

/** A macro's actions, to run after a message sent some other way (an email reply with Cc). 404 for a macro not in this workspace. */
export async function macroActionsOf(deps: WorkspaceContext, macroId: string): Promise<MacroActions> {
  const macro = await inWorkspaceTx(deps, (tx) => repo.find(tx, deps.workspaceId, macroId));
  if (!macro) throw macroErrors.notFound();
  return macro.actions;
}

/**
 * Applies status, priority and added tags through the conversations use cases, in the caller's
 * transaction when there is one; returns the conversation after.
 */
export async function runMacroActions(deps: WorkspaceContext, conversationId: string, actions: MacroActions) {
  return inWorkspaceTx(deps, async (tx) => {
    const ctx = inTx(deps, tx);
    const change: { status?: MacroActions['status']; priority?: MacroActions['priority']; tags?: string[] } = {};
    if (actions.status) change.status = actions.status;
    if (actions.priority) change.priority = actions.priority;
    if (actions.addTags?.length) change.tags = [...(await getConversation(ctx, conversationId)).tags, ...actions.addTags];
    return Object.keys(change).length > 0 ? updateConversation(ctx, conversationId, change) : getConversation(ctx, conversationId);
  });
}
