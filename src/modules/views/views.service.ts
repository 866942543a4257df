import { inWorkspaceTx } from '../../db/tenancy.js';
import { inTx, type WorkspaceContext } from '../context.js';
import { countConversationViews, countRecentTags } from '../conversations/conversations.counts.service.js';
import { listTeamIds } from '../teams/teams.service.js';
import { VIEW_STATUS_FILTERS, type ConversationCounts, type TagList, type ViewStatusFilter } from './views.schemas.js';

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
