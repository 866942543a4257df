import type { Queryable } from '../../db/pool.js';
import { inWorkspaceTx } from '../../db/tenancy.js';
import { recordEvents } from '../../events/outbox.js';
import { atLeast, type Role } from '../auth/roles.js';
import { inTx, type WorkspaceContext } from '../context.js';
import { countConversationViews, countRecentTags } from '../conversations/conversations.counts.service.js';
import { listTeamIds } from '../teams/teams.service.js';
import { viewErrors } from './views.errors.js';
import { savedViewsRepository as savedViewsRepo, type SavedViewRow } from './views.repository.js';
import { VIEW_STATUS_FILTERS, type ConversationCounts, type CreateSavedViewInput, type SavedView, type TagList, type UpdateSavedViewInput, type ViewStatusFilter } from './views.schemas.js';

/** Counts stop at this many: "10,000+" is as useful to an agent as the exact figure, and stays fast. */
export const COUNT_CAP = 10_000;

/**
 * The inbox counts for the caller: Mine, Unassigned, each status, each team, priority and tag; with a
 * status filter, the views count that status (the same statuses the list asks for, so they agree).
 */
export async function conversationCounts(deps: WorkspaceContext & { userId: string | null }, cap = COUNT_CAP, status: ViewStatusFilter | null = null): Promise<ConversationCounts> {
  const statuses = status ? VIEW_STATUS_FILTERS[status] : undefined;
  // Views own no table: the conversations and teams modules count and list, in one transaction.
  const { row, tags } = await inWorkspaceTx(deps, async (tx) => {
    const ctx = inTx(deps, tx);
    const teamIds = await listTeamIds(ctx);
    return { row: await countConversationViews(ctx, { userId: deps.userId, teamIds, cap, statuses }), tags: await countRecentTags(ctx, cap + 1, statuses) };
  });
  const cappedKeys: string[] = [];
  const clamp = (key: string, n: number) => {
    if (n <= cap) return n;
    cappedKeys.push(key);
    return cap;
  };
  const counted = {
    mine: clamp('mine', row.mine),
    unassigned: clamp('unassigned', row.unassigned),
    open: clamp('open', row.open),
    pending: clamp('pending', row.pending),
    snoozed: clamp('snoozed', row.snoozed),
    resolved: clamp('resolved', row.resolved),
    closed: clamp('closed', row.closed),
  };
  const byTeam: Record<string, number> = {};
  for (const t of row.by_team) byTeam[t.team_id] = clamp(`byTeam.${t.team_id}`, t.n);
  const byPriority: Record<string, number> = {};
  for (const [p, n] of Object.entries(row.by_priority)) byPriority[p] = clamp(`byPriority.${p}`, n);
  const byTag: Record<string, number> = {};
  for (const t of tags.items) byTag[t.tag] = Math.min(t.n, cap);
  if (tags.scanned > cap) cappedKeys.push('byTag');
  return {
    status,
    ...counted,
    byTeam,
    byPriority,
    byTag,
    cap,
    capped: cappedKeys.length > 0,
    cappedKeys,
  };
}

/** GET /tags: the tag views' list, from the server (every agent sees the same tags). */
export async function listTags(deps: WorkspaceContext, cap = COUNT_CAP): Promise<TagList> {
  const tags = await countRecentTags(deps, cap + 1);
  return { items: tags.items.map((t) => ({ tag: t.tag, count: Math.min(t.n, cap) })), cap, capped: tags.scanned > cap };
}

/** Who manages saved views: the signed-in member (an API token owns none) and their role. */
export type ViewsContext = WorkspaceContext & { role: Role };

function canManage(deps: ViewsContext, row: SavedViewRow): boolean {
  const me = deps.actor.type === 'user' ? deps.actor.id : null;
  return row.owner_id === me || (row.shared && atLeast(deps.role, 'admin'));
}

function toSavedView(deps: ViewsContext, row: SavedViewRow): SavedView {
  return {
    id: row.id,
    name: row.name,
    filters: row.filters,
    shared: row.shared,
    ownerId: row.owner_id,
    mine: deps.actor.type === 'user' && row.owner_id === deps.actor.id,
    canManage: canManage(deps, row),
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

function ownerOf(deps: ViewsContext): string {
  if (deps.actor.type !== 'user' || !deps.actor.id) throw viewErrors.peopleOnly();
  return deps.actor.id;
}

/**
 * The change's event: for every agent when others could see the view before or after it (`saved_view.*`),
 * for its owner alone when it was private throughout (`saved_view.private_*`).
 */
function savedViewEvent(tx: Queryable, deps: ViewsContext, change: 'created' | 'updated' | 'deleted', row: SavedViewRow, sharedBefore = false) {
  const type = row.shared || sharedBefore ? (`saved_view.${change}` as const) : (`saved_view.private_${change}` as const);
  return recordEvents(tx, [{ workspaceId: deps.workspaceId, type, actor: deps.actor, data: { savedViewId: row.id, ownerId: row.owner_id, shared: row.shared }, at: deps.clock.now() }]);
}

/** The caller's saved views and the workspace's shared ones (an API token: the shared ones). */
export async function listSavedViews(deps: ViewsContext): Promise<{ items: SavedView[] }> {
  const me = deps.actor.type === 'user' ? deps.actor.id : null;
  const rows = await inWorkspaceTx(deps, (tx) => savedViewsRepo.listVisible(tx, deps.workspaceId, me));
  return { items: rows.map((r) => toSavedView(deps, r)) };
}

export async function createSavedView(deps: ViewsContext, input: CreateSavedViewInput): Promise<SavedView> {
  const ownerId = ownerOf(deps);
  return inWorkspaceTx(deps, async (tx) => {
    const row = await savedViewsRepo.insert(tx, { workspaceId: deps.workspaceId, ownerId, name: input.name.trim(), filters: input.filters, shared: input.shared ?? false, at: deps.clock.now() });
    await savedViewEvent(tx, deps, 'created', row);
    return toSavedView(deps, row);
  });
}

/**
 * The view the caller may manage, locked: someone else's private view is not found (like a missing
 * one); someone else's shared view is theirs and admins' to change.
 */
async function managed(tx: Queryable, deps: ViewsContext, id: string): Promise<SavedViewRow> {
  const me = deps.actor.type === 'user' ? deps.actor.id : null;
  const row = await savedViewsRepo.find(tx, deps.workspaceId, id);
  if (!row || (!row.shared && row.owner_id !== me)) throw viewErrors.notFound();
  if (!canManage(deps, row)) throw me ? viewErrors.notYours() : viewErrors.peopleOnly();
  return row;
}

export async function updateSavedView(deps: ViewsContext, id: string, input: UpdateSavedViewInput): Promise<SavedView> {
  return inWorkspaceTx(deps, async (tx) => {
    const current = await managed(tx, deps, id);
    const row = await savedViewsRepo.update(tx, deps.workspaceId, id, {
      name: input.name?.trim() ?? current.name,
      filters: input.filters ?? current.filters,
      shared: input.shared ?? current.shared,
      at: deps.clock.now(),
    });
    await savedViewEvent(tx, deps, 'updated', row, current.shared);
    return toSavedView(deps, row);
  });
}

export async function deleteSavedView(deps: ViewsContext, id: string): Promise<void> {
  await inWorkspaceTx(deps, async (tx) => {
    const row = await managed(tx, deps, id);
    await savedViewsRepo.delete(tx, deps.workspaceId, id);
    await savedViewEvent(tx, deps, 'deleted', row);
  });
}
