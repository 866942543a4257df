import { inWorkspaceTx } from '../../db/tenancy.js';
import type { WorkspaceContext } from '../context.js';
import { conversationCountsRepository as repo, viewStatusSets, type CountsRow, type TagCountsRow, type ViewStatuses } from './conversations.counts.repository.js';

export { ACTIVE_STATUSES, type ViewStatuses } from './conversations.counts.repository.js';

/**
 * How many conversations each inbox view holds, each count stopping at `cap + 1` (the views module
 * shapes them). The teams are given by the caller (the teams module owns them), so this SQL reads
 * conversations only.
 */
export async function countConversationViews(ctx: WorkspaceContext, q: { userId: string | null; teamIds: string[]; cap: number; statuses?: ViewStatuses }): Promise<CountsRow> {
  return inWorkspaceTx(ctx, (tx) => repo.counts(tx, ctx.workspaceId, q.userId, q.cap, q.teamIds, viewStatusSets(q.statuses)));
}

/** Tags in use on recent conversations and how many open or pending ones carry each, reading at most `scan` rows. */
export async function countRecentTags(ctx: WorkspaceContext, scan: number, statuses?: ViewStatuses): Promise<{ items: TagCountsRow[]; scanned: number }> {
  return inWorkspaceTx(ctx, (tx) => repo.tagCounts(tx, ctx.workspaceId, scan, statuses));
}
