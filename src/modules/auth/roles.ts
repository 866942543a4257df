export const ROLES = ['owner', 'admin', 'supervisor', 'agent', 'client_viewer'] as const;
export type Role = (typeof ROLES)[number];

const RANK: Record<Role, number> = { owner: 50, admin: 40, supervisor: 30, agent: 20, client_viewer: 10 };

/** Whether `role` is at least `minimum`: agents write, admins change settings, viewers only read. */
export function atLeast(role: Role, minimum: Role): boolean {
  return RANK[role] >= RANK[minimum];
}

/**
 * What a reader may see of a workspace's conversations:
 * - `internal`: agents and up; everything, internal notes included.
 * - `client`: a client viewer (a provider's client company reading its own help desk): conversations,
 *   customer-visible messages, statuses, counts; never internal notes, nor events about them, nor
 *   agents' presence and typing, nor member email addresses.
 * Customers of one conversation read even less; their audience is decided in realtime/realtime.audiences.ts.
 */
export type Visibility = 'internal' | 'client';

export function visibilityOf(role: Role): Visibility {
  return atLeast(role, 'agent') ? 'internal' : 'client';
}
