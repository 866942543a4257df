import type { Pool, PoolClient, Queryable } from '../../db/pool.js';
import { inSystemTx, inWorkspaceTx } from '../../db/tenancy.js';
import type { Clock } from '../../lib/clock.js';
import type { WorkspaceContext } from '../context.js';
import { atLeast, type Role, type Visibility } from '../auth/roles.js';
import { hashPassword, newSecret, sha256 } from '../auth/secrets.js';
import { createApiInbox } from '../inboxes/inboxes.service.js';
import { workspaceErrors } from './workspaces.errors.js';
import { workspacesRepository as repo, type TokenRow } from './workspaces.repository.js';

/**
 * Creates a workspace with its owner and a first API inbox. Runs as system: the workspace does not
 * exist yet, so there is no tenant context to run in.
 */
export async function createWorkspace(
  deps: { pool: Pool; clock: Clock; tx?: PoolClient },
  input: { name: string; slug: string; timeZone?: string; ownerUserId: string },
): Promise<{ id: string; inboxId: string }> {
  return inSystemTx(deps, async (tx) => {
    const at = deps.clock.now();
    const id = await repo.insertWorkspace(tx, { name: input.name, slug: input.slug, timeZone: input.timeZone ?? 'UTC', at });
    if (!id) throw workspaceErrors.slugTaken();
    await repo.insertMembership(tx, id, input.ownerUserId, 'owner', at);
    const { id: inboxId } = await createApiInbox({ pool: deps.pool, clock: deps.clock, workspaceId: id, actor: { type: 'system', id: null }, tx }, { name: 'API' });
    return { id, inboxId };
  });
}

/**
 * A user account (no workspace yet), for the first start and tests only: no route reaches it. People
 * get accounts by accepting an invitation sent to their email, never from another workspace's admin.
 */
export async function createUserAccount(deps: { pool: Pool; clock: Clock; tx?: PoolClient }, input: { email: string; name: string; password?: string; instanceAdmin?: boolean }): Promise<string> {
  const passwordHash = input.password ? await hashPassword(input.password) : null;
  return inSystemTx(deps, (tx) => repo.insertUser(tx, { email: input.email.trim().toLowerCase(), name: input.name, passwordHash, at: deps.clock.now(), instanceAdmin: input.instanceAdmin }));
}

export async function getWorkspace(deps: WorkspaceContext, role: Role) {
  const w = await inWorkspaceTx(deps, (tx) => repo.findWorkspace(tx, deps.workspaceId));
  return { id: w.id, name: w.name, slug: w.slug, timeZone: w.time_zone, role, createdAt: w.created_at.toISOString() };
}

/**
 * Adds a person to the workspace directly, for the demo seed and tests only: no route reaches it
 * (issue #8 H1: through the API, an admin could create the global account with a password of their
 * choosing; people now join by invitation). An existing account is added as it is.
 */
export async function addMember(deps: WorkspaceContext, callerRole: Role, input: { email: string; name: string; role: Role; password?: string }) {
  if (input.role === 'owner' && callerRole !== 'owner') throw workspaceErrors.ownerOnly();
  const email = input.email.trim().toLowerCase();
  const passwordHash = input.password ? await hashPassword(input.password) : null;
  return inWorkspaceTx(deps, async (tx) => {
    const at = deps.clock.now();
    // users is not a tenant table: look it up by email only, and reveal nothing about it.
    const existing = await repo.findUserByEmail(tx, email);
    const userId = existing?.id ?? (await repo.insertUser(tx, { email, name: input.name, passwordHash, at }));
    if (!(await repo.insertMembership(tx, deps.workspaceId, userId, input.role, at))) throw workspaceErrors.alreadyMember();
    const member = (await repo.listMembers(tx, deps.workspaceId)).find((m) => m.id === userId)!;
    return { id: member.id, email: member.email, name: member.name, role: member.role, createdAt: member.created_at.toISOString() };
  });
}

interface MemberView {
  id: string;
  email?: string;
  name: string;
  role: Role;
  createdAt: string;
}

/** The workspace's people; a `client` reader gets names and roles but not email addresses. */
export async function listMembers(deps: WorkspaceContext): Promise<{ items: Array<MemberView & { email: string }> }>;
export async function listMembers(deps: WorkspaceContext, visibility: Visibility): Promise<{ items: MemberView[] }>;
export async function listMembers(deps: WorkspaceContext, visibility: Visibility = 'internal'): Promise<{ items: MemberView[] }> {
  const rows = await inWorkspaceTx(deps, (tx) => repo.listMembers(tx, deps.workspaceId));
  return {
    items: rows.map((m) => ({ id: m.id, ...(visibility === 'internal' ? { email: m.email } : {}), name: m.name, role: m.role, createdAt: m.created_at.toISOString() })),
  };
}

const tokenView = (t: TokenRow) => ({
  id: t.id,
  name: t.name,
  role: t.role,
  prefix: t.prefix,
  createdAt: t.created_at.toISOString(),
  lastUsedAt: t.last_used_at?.toISOString() ?? null,
  revokedAt: t.revoked_at?.toISOString() ?? null,
});

/** A new API token, returned once. Only its SHA-256 is stored; it is 256 random bits (SECURITY A5). */
export async function createToken(deps: WorkspaceContext, callerRole: Role, input: { name: string; role?: Exclude<Role, 'owner'> }) {
  const role = input.role ?? 'admin';
  if (!atLeast(callerRole, role)) throw workspaceErrors.tokenRoleTooHigh();
  const token = newSecret('rpt_');
  const row = await inWorkspaceTx(deps, (tx) =>
    repo.insertToken(tx, {
      workspaceId: deps.workspaceId,
      name: input.name,
      role,
      hash: sha256(token),
      prefix: token.slice(0, 10),
      createdBy: deps.actor.type === 'user' ? deps.actor.id : null,
      at: deps.clock.now(),
    }),
  );
  return { ...tokenView(row), token };
}

export async function listTokens(deps: WorkspaceContext) {
  return { items: (await inWorkspaceTx(deps, (tx) => repo.listTokens(tx, deps.workspaceId))).map(tokenView) };
}

export async function revokeToken(deps: WorkspaceContext, id: string) {
  const row = await inWorkspaceTx(deps, (tx) => repo.revokeToken(tx, deps.workspaceId, id, deps.clock.now()));
  if (!row) throw workspaceErrors.tokenNotFound();
  return tokenView(row);
}

/** Revokes every API token a person created in this workspace (they are leaving it), in the caller's transaction when given. */
export async function revokeTokensCreatedBy(deps: WorkspaceContext, userId: string): Promise<void> {
  await inWorkspaceTx(deps, (tx) => repo.revokeTokensCreatedBy(tx, deps.workspaceId, userId, deps.clock.now()));
}

/** The name of whoever acts (a user's name, an API token's name), for texts such as a macro's {{agent.name}}; null for the system. */
export async function actorName(deps: WorkspaceContext): Promise<string | null> {
  const { actor } = deps;
  if (!actor.id || (actor.type !== 'user' && actor.type !== 'token')) return null;
  const id = actor.id;
  const name = await inWorkspaceTx(deps, (tx) => (actor.type === 'user' ? repo.userName(tx, id) : repo.tokenName(tx, deps.workspaceId, id)));
  return name ?? null;
}

/** Whether the person may be assigned conversations here: a member at agent or above (not a client viewer). */
export async function isAgentOf(deps: WorkspaceContext, userId: string): Promise<boolean> {
  return inWorkspaceTx(deps, (tx) => repo.isAgent(tx, deps.workspaceId, userId));
}

/**
 * Memberships for the members module, which decides who may change what: the owner rows locked
 * (so concurrent demotions see each other), one member locked, a role set, a membership deleted.
 * Each runs in the caller's transaction when given.
 */
export async function lockOwners(deps: WorkspaceContext): Promise<string[]> {
  return inWorkspaceTx(deps, (tx) => repo.lockOwners(tx, deps.workspaceId));
}

export async function lockMember(deps: WorkspaceContext, userId: string) {
  const m = await inWorkspaceTx(deps, (tx) => repo.lockMember(tx, deps.workspaceId, userId));
  return m && { id: m.id, email: m.email, name: m.name, role: m.role, createdAt: m.created_at.toISOString() };
}

export async function setMemberRole(deps: WorkspaceContext, userId: string, role: Role): Promise<void> {
  await inWorkspaceTx(deps, (tx) => repo.setRole(tx, deps.workspaceId, userId, role));
}

export async function deleteMembership(deps: WorkspaceContext, userId: string): Promise<void> {
  await inWorkspaceTx(deps, (tx) => repo.deleteMembership(tx, deps.workspaceId, userId));
}

/** Which of these people belong to the workspace (teams admit only members). */
export async function membersAmong(deps: WorkspaceContext, userIds: string[]): Promise<Set<string>> {
  if (userIds.length === 0) return new Set();
  return new Set(await inWorkspaceTx(deps, (tx) => repo.membersAmong(tx, deps.workspaceId, userIds)));
}

/** `user:<id>` or `token:<id>`: the key of a name in `actorNames`' answer. */
export const actorKey = (type: string, id: string) => `${type}:${id}`;

/**
 * The names of these users and API tokens (other actors are ignored), keyed by `actorKey`, in one
 * query for a whole page (a thread's authors) and in the caller's transaction: other modules name
 * people through this, never by reading users or api_tokens. A missing key: no such user or token.
 */
export async function actorNames(deps: { workspaceId: string; tx: Queryable }, actors: Iterable<{ type: string; id: string | null }>): Promise<Map<string, string>> {
  const users = new Set<string>();
  const tokens = new Set<string>();
  for (const a of actors) {
    if (!a.id) continue;
    if (a.type === 'user') users.add(a.id);
    else if (a.type === 'token') tokens.add(a.id);
  }
  if (users.size === 0 && tokens.size === 0) return new Map();
  const rows = await repo.actorNames(deps.tx, deps.workspaceId, [...users], [...tokens]);
  return new Map(rows.map((r) => [actorKey(r.type, r.id), r.name]));
}
