import { inWorkspaceTx } from '../../db/tenancy.js';
import { inTx, type WorkspaceContext } from '../context.js';
import { removeFromAllTeams } from '../teams/teams.service.js';
import { deleteMembership, lockMember, lockOwners, revokeTokensCreatedBy, setMemberRole } from '../workspaces/workspaces.service.js';
import type { Role } from '../auth/roles.js';
import { workspaceErrors } from '../workspaces/workspaces.errors.js';
import { memberErrors } from './members.errors.js';

/**
 * The rules for changing and removing members. The memberships are the workspaces module's: this
 * module owns no table and reaches them through its service, in one transaction.
 */

/**
 * Changes a member's role. Only an owner makes an owner or touches an owner's membership, and the
 * last owner cannot step down: the owner rows are locked first, so concurrent changes see each other.
 */
export async function changeRole(deps: WorkspaceContext, callerRole: Role, userId: string, role: Role) {
  return inWorkspaceTx(deps, async (tx) => {
    const ctx = inTx(deps, tx);
    const owners = await lockOwners(ctx);
    const member = await lockMember(ctx, userId);
    if (!member) throw workspaceErrors.userNotFound();
    if ((role === 'owner' || member.role === 'owner') && callerRole !== 'owner') {
      throw role === 'owner' ? workspaceErrors.ownerOnly() : memberErrors.ownerChangesNeedOwner();
    }
    if (member.role === 'owner' && role !== 'owner' && owners.length <= 1) throw memberErrors.lastOwner();
    if (member.role !== role) await setMemberRole(ctx, userId, role);
    return { ...member, role };
  });
}

/** Removes a member from the workspace (their account stays; conversations keep their assignee; their tokens are revoked). */
export async function removeMember(deps: WorkspaceContext, callerRole: Role, userId: string): Promise<void> {
  await inWorkspaceTx(deps, async (tx) => {
    const ctx = inTx(deps, tx);
    const owners = await lockOwners(ctx);
    const member = await lockMember(ctx, userId);
    if (!member) throw workspaceErrors.userNotFound();
    if (member.role === 'owner' && callerRole !== 'owner') throw memberErrors.ownerChangesNeedOwner();
    if (member.role === 'owner' && owners.length <= 1) throw memberErrors.lastOwner();
    await removeFromAllTeams(ctx, userId);
    await deleteMembership(ctx, userId);
    // Their API tokens go with them (issue #8 M3): a removed admin's token must not keep creating
    // admins. Demotion needs no write: a token acts with at most its creator's current role.
    await revokeTokensCreatedBy(ctx, userId);
  });
}
