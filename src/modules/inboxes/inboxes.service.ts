import type { Pool, Queryable } from '../../db/pool.js';
import { inWorkspaceTx, withSystem } from '../../db/tenancy.js';
import { recordEvents } from '../../events/outbox.js';
import type { OutboundGuard } from '../../lib/outbound/outbound.guard.js';
import { atLeast, type Role } from '../auth/roles.js';
import { type ChannelRegistry, restoreMaskedSecrets } from '../channels/channels.registry.js';
import type { WorkspaceContext } from '../context.js';
import { inboxErrors } from './inboxes.errors.js';
import { inboxForNewConversationSql, inboxesRepository as repo, type InboxRow } from './inboxes.repository.js';

/** See inboxesRepository: the inbox a new conversation lands in, as a subquery for its statement. */
export { inboxForNewConversationSql };

export { inboxErrors };

/** Who reads an inbox: its settings (server hosts, usernames, addresses) go to admins only (I1). */
export interface InboxReader {
  role: Role;
}

function view(row: InboxRow, channels: ChannelRegistry, reader?: InboxReader) {
  const base = { id: row.id, name: row.name, channel: row.channel, createdAt: row.created_at.toISOString(), disabledAt: row.disabled_at?.toISOString() ?? null };
  if (reader && !atLeast(reader.role, 'admin')) return base;
  return { ...base, settings: channels.get(row.channel).publicSettings(row.settings) };
}

export async function createInbox(deps: WorkspaceContext & { channels: ChannelRegistry; outbound: OutboundGuard }, input: { name: string; channel: string; settings?: Record<string, unknown> }) {
  const adapter = deps.channels.get(input.channel);
  const incoming = restoreMaskedSecrets(input.settings ?? {}, {}) as Record<string, unknown>;
  const settings = await adapter.validateSettings(incoming, { outbound: deps.outbound });
  return inWorkspaceTx(deps, async (tx) => {
    const id = await repo.insert(tx, { workspaceId: deps.workspaceId, name: input.name, channel: input.channel, settings, at: deps.clock.now() });
    await adapter.inboxSaved?.(tx, deps.pool, { workspaceId: deps.workspaceId, inboxId: id, settings, at: deps.clock.now() });
    return view((await repo.find(tx, deps.workspaceId, id))!, deps.channels);
  });
}

/**
 * The API inbox every workspace starts with (conversations created over the API land in it). The
 * `api` channel has no settings to validate, so no registry is needed: workspace creation calls this
 * inside its own (system) transaction.
 */
export async function createApiInbox(deps: WorkspaceContext, input: { name: string }): Promise<{ id: string }> {
  return inWorkspaceTx(deps, async (tx) => ({
    id: await repo.insert(tx, { workspaceId: deps.workspaceId, name: input.name, channel: 'api', settings: {}, at: deps.clock.now() }),
  }));
}

/** The inbox a conversation created over the API lands in when none is named (the oldest API inbox). */
export async function defaultApiInboxId(deps: WorkspaceContext): Promise<string | undefined> {
  return inWorkspaceTx(deps, (tx) => repo.defaultApiInbox(tx, deps.workspaceId));
}

/** Whether this workspace has the inbox (for a caller that names one). */
export async function inboxExists(deps: WorkspaceContext, id: string): Promise<boolean> {
  return (await inWorkspaceTx(deps, (tx) => repo.channelOf(tx, deps.workspaceId, id))) !== undefined;
}

export async function listInboxes(deps: WorkspaceContext & { channels: ChannelRegistry }, reader: InboxReader) {
  const rows = await inWorkspaceTx(deps, (tx) => repo.list(tx, deps.workspaceId));
  return { items: rows.map((r) => view(r, deps.channels, reader)) };
}

export async function getInbox(deps: WorkspaceContext & { channels: ChannelRegistry }, id: string, reader: InboxReader) {
  const row = await inWorkspaceTx(deps, (tx) => repo.find(tx, deps.workspaceId, id));
  if (!row) throw inboxErrors.notFound();
  return view(row, deps.channels, reader);
}

/**
 * Renames an inbox or replaces its settings (admin). New settings go through the channel's own
 * validation and its save hook, in the same transaction, like a new inbox's; the channel kind is fixed.
 */
export async function updateInbox(deps: WorkspaceContext & { channels: ChannelRegistry; outbound: OutboundGuard }, id: string, input: { name?: string; settings?: Record<string, unknown> }) {
  const ws = deps.workspaceId;
  return inWorkspaceTx(deps, async (tx) => {
    const current = await repo.find(tx, ws, id);
    if (!current) throw inboxErrors.notFound();
    const adapter = deps.channels.get(current.channel);
    const incoming = input.settings !== undefined ? (restoreMaskedSecrets(input.settings, current.settings) as Record<string, unknown>) : undefined;
    const settings = incoming !== undefined ? await adapter.validateSettings(incoming, { outbound: deps.outbound }) : current.settings;
    await repo.update(tx, ws, id, { name: input.name?.trim() || current.name, settings });
    if (input.settings !== undefined) await adapter.inboxSaved?.(tx, deps.pool, { workspaceId: ws, inboxId: id, settings, at: deps.clock.now() });
    await inboxEvent(tx, deps, 'inbox.updated', id);
    return view((await repo.find(tx, ws, id))!, deps.channels);
  });
}

function inboxEvent(tx: Queryable, deps: WorkspaceContext, type: 'inbox.updated' | 'inbox.disabled' | 'inbox.enabled' | 'inbox.deleted', inboxId: string) {
  return recordEvents(tx, [{ workspaceId: deps.workspaceId, type, actor: deps.actor, data: { inboxId }, at: deps.clock.now() }]);
}

/**
 * Disables or enables an inbox (admin). A disabled inbox takes no new mail (routing, IMAP polls and
 * webhooks skip it), sends no reply (`inboxes.disabled`), and keeps its conversations, readable and
 * searchable. The workspace's API inbox (where REST conversations land) stays enabled. Setting the
 * state it already has changes nothing and records no event.
 */
export async function setInboxDisabled(deps: WorkspaceContext & { channels: ChannelRegistry }, id: string, disabled: boolean) {
  const ws = deps.workspaceId;
  return inWorkspaceTx(deps, async (tx) => {
    const current = await repo.find(tx, ws, id);
    if (!current) throw inboxErrors.notFound();
    if (disabled && (await repo.defaultApiInbox(tx, ws)) === id) throw inboxErrors.lastApiInbox();
    if ((current.disabled_at !== null) !== disabled) {
      await repo.setDisabled(tx, ws, id, disabled ? deps.clock.now() : null);
      await inboxEvent(tx, deps, disabled ? 'inbox.disabled' : 'inbox.enabled', id);
    }
    return view((await repo.find(tx, ws, id))!, deps.channels);
  });
}

/**
 * Deletes an inbox (admin), with its settings, addresses and its channel's own rows. An inbox that
 * holds any conversation is refused (`inboxes.has_conversations`): deleting it would delete or orphan
 * the customers' history, which a help desk keeps; disabling is how such an inbox is retired.
 */
export async function deleteInbox(deps: WorkspaceContext, id: string): Promise<void> {
  const ws = deps.workspaceId;
  await inWorkspaceTx(deps, async (tx) => {
    if (!(await repo.find(tx, ws, id))) throw inboxErrors.notFound();
    if ((await repo.defaultApiInbox(tx, ws)) === id) throw inboxErrors.lastApiInbox();
    try {
      await repo.delete(tx, ws, id);
    } catch (error) {
      // The conversations' foreign key (no cascade) decides, in the same statement: no race with a
      // conversation created meanwhile, and no read of the conversations module's table here.
      if ((error as { code?: string }).code === '23503') throw inboxErrors.hasConversations();
      throw error;
    }
    await inboxEvent(tx, deps, 'inbox.deleted', id);
  });
}

/** Refuses a reply through a disabled inbox (the conversations service asks, in its transaction). */
export async function assertInboxSendsReplies(tx: Queryable, ws: string, id: string): Promise<void> {
  if (await repo.isDisabled(tx, ws, id)) throw inboxErrors.disabled();
}

/**
 * An inbox's name, channel, raw settings and when it was disabled (null: it sends), inside a channel's
 * own transaction (the outbound job, the email channel). A disabled inbox sends nothing: callers that
 * send check `disabledAt`.
 */
export async function inboxForChannel(
  tx: Queryable,
  ws: string,
  id: string,
): Promise<{ id: string; name: string; channel: string; settings: Record<string, unknown>; disabledAt: Date | null } | undefined> {
  const row = await repo.find(tx, ws, id);
  return row && { id: row.id, name: row.name, channel: row.channel, settings: row.settings, disabledAt: row.disabled_at };
}

/**
 * The inbox a provider's webhook names, in whichever workspace it is (system context: the caller
 * is not signed in; the channel's signature check decides whether to believe it).
 */
export async function inboxForWebhook(pool: Pool, id: string): Promise<{ workspaceId: string; id: string; channel: string; settings: Record<string, unknown> } | undefined> {
  const row = await withSystem(pool, (tx) => repo.findAnywhere(tx, id));
  return row && { workspaceId: row.workspace_id, id: row.id, channel: row.channel, settings: row.settings };
}
