import { withWorkspace } from '../../db/tenancy.js';
import { defineError } from '../../lib/errors.js';
import type { WorkspaceDeps } from '../context.js';
import { teamsRepository as repo } from './teams.repository.js';

export const teamErrors = {
  nameTaken: defineError('teams.name_taken', 409, 'A team with that name exists'),
  memberNotFound: defineError('teams.member_not_found', 422, 'Every team member must belong to this workspace'),
};

const view = (t: { id: string; name: string; created_at: Date; member_ids: string[] }) => ({ id: t.id, name: t.name, memberIds: t.member_ids, createdAt: t.created_at.toISOString() });

export async function createTeam(deps: WorkspaceDeps, input: { name: string; memberIds?: string[] }) {
  return withWorkspace(deps.pool, deps.workspaceId, async (tx) => {
    const id = await repo.insert(tx, deps.workspaceId, input.name.trim(), deps.clock.now());
    if (!id) throw teamErrors.nameTaken();
    const wanted = [...new Set(input.memberIds ?? [])];
    if (wanted.length && (await repo.addMembers(tx, deps.workspaceId, id, wanted)) !== wanted.length) throw teamErrors.memberNotFound();
    return view((await repo.list(tx, deps.workspaceId)).find((t) => t.id === id)!);
  });
}

export async function listTeams(deps: WorkspaceDeps) {
  return { items: (await withWorkspace(deps.pool, deps.workspaceId, (tx) => repo.list(tx, deps.workspaceId))).map(view) };
}
