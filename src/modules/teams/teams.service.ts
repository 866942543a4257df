import type { PoolClient } from '../../db/pool.js';
import { inWorkspaceTx } from '../../db/tenancy.js';
import { defineError } from '../../lib/errors.js';
import { inTx, type WorkspaceContext } from '../context.js';
import { membersAmong } from '../workspaces/workspaces.service.js';
import { teamsRepository as repo } from './teams.repository.js';

export const teamErrors = {
  nameTaken: defineError('teams.name_taken', 409, 'A team with that name exists'),
  memberNotFound: defineError('teams.member_not_found', 422, 'Every team member must belong to this workspace'),
  notFound: defineError('teams.not_found', 404, 'No such team'),
};

/** Adds people to a team; only members of this workspace can join its teams (memberships belong to the workspaces module). */
async function addMembers(deps: WorkspaceContext, tx: PoolClient, teamId: string, userIds: string[]): Promise<void> {
  const members = await membersAmong(inTx(deps, tx), userIds);
  if (userIds.some((u) => !members.has(u))) throw teamErrors.memberNotFound();
  if ((await repo.addMembers(tx, deps.workspaceId, teamId, userIds)) !== userIds.length) throw teamErrors.memberNotFound();
}

const view = (t: { id: string; name: string; created_at: Date; member_ids: string[] }) => ({ id: t.id, name: t.name, memberIds: t.member_ids, createdAt: t.created_at.toISOString() });

export async function createTeam(deps: WorkspaceContext, input: { name: string; memberIds?: string[] }) {
  return inWorkspaceTx(deps, async (tx) => {
    const id = await repo.insert(tx, deps.workspaceId, input.name.trim(), deps.clock.now());
    if (!id) throw teamErrors.nameTaken();
    const wanted = [...new Set(input.memberIds ?? [])];
    if (wanted.length) await addMembers(deps, tx, id, wanted);
    return view((await repo.list(tx, deps.workspaceId)).find((t) => t.id === id)!);
  });
}

/** The workspace's team ids (the views count each team's conversations). */
export async function listTeamIds(deps: WorkspaceContext): Promise<string[]> {
  return inWorkspaceTx(deps, (tx) => repo.ids(tx, deps.workspaceId));
}

/** Takes a person out of every team of the workspace (they are leaving it), in the caller's transaction when given. */
export async function removeFromAllTeams(deps: WorkspaceContext, userId: string): Promise<void> {
  await inWorkspaceTx(deps, (tx) => repo.removeFromAll(tx, deps.workspaceId, userId));
}

export async function teamExists(deps: WorkspaceContext, id: string): Promise<boolean> {
  return inWorkspaceTx(deps, (tx) => repo.exists(tx, deps.workspaceId, id));
}

export async function listTeams(deps: WorkspaceContext) {
  return { items: (await inWorkspaceTx(deps, (tx) => repo.list(tx, deps.workspaceId))).map(view) };
}

/** Renames a team and adds or removes members (admin); only members of this workspace can be added. */
export async function updateTeam(deps: WorkspaceContext, id: string, input: { name?: string; addMemberIds?: string[]; removeMemberIds?: string[] }) {
  const ws = deps.workspaceId;
  return inWorkspaceTx(deps, async (tx) => {
    if (input.name !== undefined) {
      const renamed = await repo.rename(tx, ws, id, input.name.trim());
      if (renamed === 'missing') throw teamErrors.notFound();
      if (renamed === 'taken') throw teamErrors.nameTaken();
    } else if (!(await repo.exists(tx, ws, id))) {
      throw teamErrors.notFound();
    }
    const add = [...new Set(input.addMemberIds ?? [])];
    if (add.length) {
      const known = new Set((await repo.list(tx, ws)).find((t) => t.id === id)!.member_ids);
      const fresh = add.filter((u) => !known.has(u));
      if (fresh.length) await addMembers(deps, tx, id, fresh);
    }
    if (input.removeMemberIds?.length) await repo.removeMembers(tx, ws, id, input.removeMemberIds);
    return view((await repo.list(tx, ws)).find((t) => t.id === id)!);
  });
}
