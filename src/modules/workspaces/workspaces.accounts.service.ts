import type { Pool, PoolClient } from '../../db/pool.js';
import { inSystemTx } from '../../db/tenancy.js';
import type { Role } from '../auth/roles.js';
import { type UserRow, type WorkspaceMembership, accountsRepository as repo } from './workspaces.accounts.repository.js';
import { workspacesRepository } from './workspaces.repository.js';

/**
 * Accounts as the other modules see them: sign-in and sessions (auth), the principal look-ups of
 * every request (http/auth.ts), invitations and password resets. The workspaces module owns users,
 * memberships, workspaces and API tokens; these run in the caller's (system) transaction when given,
 * else in one of their own, because accounts span workspaces.
 */
type SystemDeps = { pool: Pool; tx?: PoolClient };

export type Account = UserRow;
export type { WorkspaceMembership };

export async function findAccount(deps: SystemDeps, id: string): Promise<Account | undefined> {
  return inSystemTx(deps, (tx) => repo.findUser(tx, id));
}

export async function findAccountByEmail(deps: SystemDeps, email: string): Promise<Account | undefined> {
  return inSystemTx(deps, (tx) => repo.findUserByEmail(tx, email));
}

/** A new account with a password already hashed (an invitation accepted by a new email). */
export async function createAccount(deps: SystemDeps, input: { email: string; name: string; passwordHash: string; at: Date }): Promise<string> {
  return inSystemTx(deps, (tx) => workspacesRepository.insertUser(tx, input));
}

export async function setPasswordHash(deps: SystemDeps, userId: string, passwordHash: string): Promise<void> {
  await inSystemTx(deps, (tx) => repo.setPasswordHash(tx, userId, passwordHash));
}

/** The person's display name, shown to their colleagues (the profile screen). */
export async function setAccountName(deps: SystemDeps, userId: string, name: string): Promise<void> {
  await inSystemTx(deps, (tx) => repo.setName(tx, userId, name));
}

/** Adds the account to a workspace with a role; false when it is a member already. */
export async function addMembership(deps: SystemDeps, workspaceId: string, userId: string, role: Role, at: Date): Promise<boolean> {
  return inSystemTx(deps, (tx) => workspacesRepository.insertMembership(tx, workspaceId, userId, role, at));
}

/** The workspaces a person belongs to, with their role in each (the session answer). */
export async function workspacesOf(deps: SystemDeps, userId: string): Promise<WorkspaceMembership[]> {
  return inSystemTx(deps, (tx) => repo.workspacesOf(tx, userId));
}

export async function workspaceSummary(deps: SystemDeps, id: string): Promise<{ id: string; name: string; slug: string } | undefined> {
  return inSystemTx(deps, (tx) => repo.workspaceSummary(tx, id));
}

export async function membershipRole(deps: SystemDeps, workspaceId: string, userId: string): Promise<Role | undefined> {
  return inSystemTx(deps, (tx) => repo.membershipRole(tx, workspaceId, userId));
}

/** Whether someone with this email is a member of the workspace already (an invitation to them is refused). */
export async function isMemberByEmail(deps: SystemDeps, workspaceId: string, email: string): Promise<boolean> {
  return inSystemTx(deps, (tx) => repo.isMemberByEmail(tx, workspaceId, email));
}

/** Instance admins may create workspaces; a disabled account is no admin. */
export async function isInstanceAdmin(deps: SystemDeps, userId: string): Promise<boolean> {
  const user = await findAccount(deps, userId);
  return user?.instance_admin === true && !user.disabled_at;
}

/**
 * The live API token with this hash and the role it acts with (at most its creator's), its
 * last use stamped at most once a minute.
 */
export async function useApiToken(deps: SystemDeps, tokenHash: Buffer, now: Date): Promise<{ id: string; workspaceId: string; role: Role } | undefined> {
  return inSystemTx(deps, async (tx) => {
    const t = await repo.findLiveToken(tx, tokenHash);
    if (!t) return undefined;
    await repo.touchToken(tx, t.id, now);
    return { id: t.id, workspaceId: t.workspace_id, role: t.role };
  });
}

/** Revokes every live API token the account created, in every workspace (a password reset); how many. */
export async function revokeAllTokensCreatedBy(deps: SystemDeps, userId: string, at: Date): Promise<number> {
  return inSystemTx(deps, (tx) => repo.revokeAllTokensCreatedBy(tx, userId, at));
}

/** Whether the instance has any workspace yet (the demo seed fills only an empty instance). */
export async function hasAnyWorkspace(deps: SystemDeps): Promise<boolean> {
  return inSystemTx(deps, (tx) => workspacesRepository.anyWorkspace(tx));
}
