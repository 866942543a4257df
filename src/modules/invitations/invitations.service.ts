import type { Pool } from '../../db/pool.js';
import { withSystem, withWorkspace } from '../../db/tenancy.js';
import type { Clock } from '../../lib/clock.js';
import type { WorkspaceDeps } from '../context.js';
import { authRepository } from '../auth/auth.repository.js';
import type { Role } from '../auth/roles.js';
import { hashPassword, newSecret, sha256 } from '../auth/secrets.js';
import { workspaceErrors } from '../workspaces/workspaces.errors.js';
import { workspacesRepository } from '../workspaces/workspaces.repository.js';
import { invitationErrors } from './invitations.errors.js';
import { invitationsRepository as repo, type InvitationRow } from './invitations.repository.js';
import type { AcceptInvitationInput, CreateInvitationInput } from './invitations.schemas.js';

/** How long an invitation link works. */
export const INVITATION_HOURS = 72;

const view = (r: InvitationRow) => ({
  id: r.id, email: r.email, role: r.role, invitedBy: r.invited_by, createdAt: r.created_at.toISOString(), expiresAt: r.expires_at.toISOString(),
});

/** A new invitation; its token is returned once, in a link whose fragment carries it. */
export async function createInvitation(deps: WorkspaceDeps & { publicUrl: string }, callerRole: Role, input: CreateInvitationInput) {
  if (input.role === 'owner' && callerRole !== 'owner') throw workspaceErrors.ownerOnly();
  const email = input.email.trim().toLowerCase();
  const token = newSecret('rpi_');
  const at = deps.clock.now();
  const row = await withWorkspace(deps.pool, deps.workspaceId, async (tx) => {
    if (await repo.isMemberByEmail(tx, deps.workspaceId, email)) throw workspaceErrors.alreadyMember();
    return repo.insert(tx, {
      workspaceId: deps.workspaceId, email, role: input.role, tokenHash: sha256(token),
      invitedBy: deps.actor.type === 'user' ? deps.actor.id : null, at, expiresAt: new Date(at.getTime() + INVITATION_HOURS * 3600_000),
    });
  });
  return { ...view(row), token, acceptUrl: `${deps.publicUrl}/accept-invitation#token=${encodeURIComponent(token)}` };
}

export async function listInvitations(deps: WorkspaceDeps) {
  const rows = await withWorkspace(deps.pool, deps.workspaceId, (tx) => repo.listPending(tx, deps.workspaceId, deps.clock.now()));
  return { items: rows.map(view) };
}

export async function revokeInvitation(deps: WorkspaceDeps, id: string): Promise<void> {
  const done = await withWorkspace(deps.pool, deps.workspaceId, (tx) => repo.revoke(tx, deps.workspaceId, id, deps.clock.now()));
  if (!done) throw invitationErrors.notFound();
}

/**
 * Accepts an invitation. The token is claimed under a row lock, so two concurrent accepts cannot both
 * succeed; unknown, used, revoked and expired tokens all get the same answer. A new email gets an
 * account (name and password required); an email that has an account must be signed in as that
 * account, so a leaked link cannot attach someone else's account or take it over.
 */
export async function acceptInvitation(deps: { pool: Pool; clock: Clock }, signedInUserId: string | null, input: AcceptInvitationInput) {
  const now = deps.clock.now();
  // Hash the password before the transaction: argon2 takes tens of milliseconds and must not hold the lock.
  const passwordHash = input.password ? await hashPassword(input.password) : null;
  return withSystem(deps.pool, async (tx) => {
    const inv = await repo.claimable(tx, sha256(input.token), now);
    if (!inv) throw invitationErrors.invalidToken();
    const existing = await authRepository.findUserByEmail(tx, inv.email);
    let userId: string;
    let accountCreated = false;
    if (existing) {
      if (!signedInUserId) throw invitationErrors.signInRequired();
      if (signedInUserId !== existing.id) throw invitationErrors.wrongAccount();
      userId = existing.id;
    } else {
      if (signedInUserId) throw invitationErrors.wrongAccount();
      if (!input.name || !passwordHash) throw invitationErrors.accountDetailsRequired();
      userId = await workspacesRepository.insertUser(tx, { email: inv.email, name: input.name, passwordHash, at: now });
      accountCreated = true;
    }
    if (!(await workspacesRepository.insertMembership(tx, inv.workspace_id, userId, inv.role, now))) throw workspaceErrors.alreadyMember();
    await repo.markAccepted(tx, inv.workspace_id, inv.id, userId, now);
    const workspace = (await authRepository.workspaceSummary(tx, inv.workspace_id))!;
    const user = (await authRepository.findUser(tx, userId))!;
    return { workspace, user: { id: user.id, email: user.email, name: user.name }, role: inv.role, accountCreated };
  });
}
