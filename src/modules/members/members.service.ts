import { inWorkspaceTx } from '../../db/tenancy.js';
import { inTx, type WorkspaceContext } from '../context.js';
import { removeFromAllTeams } from '../teams/teams.service.js';
import { revokeTokensCreatedBy } from '../workspaces/workspaces.service.js';
import type { Role } from '../auth/roles.js';
import { workspaceErrors } from '../workspaces/workspaces.errors.js';
import { memberErrors } from './members.errors.js';
import { membersRepository as repo } from './members.repository.js';

/**
 * Changes a member's role. Only an owner makes an owner or touches an owner's membership, and the
 * last owner cannot step down: the owner rows are locked first, so concurrent changes see each other.
 */
export async function changeRole(deps: WorkspaceContext, callerRole: Role, userId: string, role: Role) {
  const ws = deps.workspaceId;
  return inWorkspaceTx(deps, async (tx) => {
    const owners = await repo.lockOwners(tx, ws);
    const member = await repo.find(tx, ws, userId);
    if (!member) throw workspaceErrors.userNotFound();
    if ((role === 'owner' || member.role === 'owner') && callerRole !== 'owner') {
      throw role === 'owner' ? workspaceErrors.ownerOnly() : memberErrors.ownerChangesNeedOwner();
    }
    if (member.role === 'owner' && role !== 'owner' && owners.length <= 1) throw memberErrors.lastOwner();
    if (member.role !== role) await repo.setRole(tx, ws, userId, role);
    return { id: member.id, email: member.email, name: member.name, role, createdAt: member.created_at.toISOString() };
  });
}

/** Removes a member from the workspace (their account stays; conversations keep their assignee; their tokens are revoked). */
export async function removeMember(deps: WorkspaceContext, callerRole: Role, userId: string): Promise<void> {
  const ws = deps.workspaceId;
  await inWorkspaceTx(deps, async (tx) => {
    const owners = await repo.lockOwners(tx, ws);
    const member = await repo.find(tx, ws, userId);
    if (!member) throw workspaceErrors.userNotFound();
    if (member.role === 'owner' && callerRole !== 'owner') throw memberErrors.ownerChangesNeedOwner();
    if (member.role === 'owner' && owners.length <= 1) throw memberErrors.lastOwner();
    const ctx = inTx(deps, tx);
    await removeFromAllTeams(ctx, userId);
    await repo.remove(tx, ws, userId);
    // Their API tokens go with them (issue #8 M3): a removed admin's token must not keep creating
    // admins. Demotion needs no write: a token acts with at most its creator's current role.
    await revokeTokensCreatedBy(ctx, userId);
  });
}
