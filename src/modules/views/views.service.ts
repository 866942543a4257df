import { withWorkspace } from '../../db/tenancy.js';
import type { WorkspaceDeps } from '../context.js';
import type { ConversationCounts } from './views.schemas.js';
import { viewsRepository as repo } from './views.repository.js';

/** Counts stop at this many: "10,000+" is as useful to an agent as the exact figure, and stays fast. */
export const COUNT_CAP = 10_000;

/** The inbox counts for the caller: Mine, Unassigned, each status, each team. */
export async function conversationCounts(deps: WorkspaceDeps & { userId: string | null }, cap = COUNT_CAP): Promise<ConversationCounts> {
  const row = await withWorkspace(deps.pool, deps.workspaceId, (tx) => repo.counts(tx, deps.workspaceId, deps.userId, cap));
  const cappedKeys: string[] = [];
  const clamp = (key: string, n: number) => {
    if (n <= cap) return n;
    cappedKeys.push(key);
    return cap;
  };
  const byTeam: Record<string, number> = {};
  for (const t of row.by_team) byTeam[t.team_id] = clamp(`byTeam.${t.team_id}`, t.n);
  return {
    mine: clamp('mine', row.mine),
    unassigned: clamp('unassigned', row.unassigned),
    open: clamp('open', row.open),
    pending: clamp('pending', row.pending),
    snoozed: clamp('snoozed', row.snoozed),
    resolved: clamp('resolved', row.resolved),
    closed: clamp('closed', row.closed),
    byTeam,
    cap,
    capped: cappedKeys.length > 0,
    cappedKeys,
  };
}
