export const ROLES = ['owner', 'admin', 'supervisor', 'agent', 'client_viewer'] as const;
export type Role = (typeof ROLES)[number];

const RANK: Record<Role, number> = { owner: 50, admin: 40, supervisor: 30, agent: 20, client_viewer: 10 };

/** Whether `role` is at least `minimum`: agents write, admins change settings, viewers only read. */
export function atLeast(role: Role, minimum: Role): boolean {
  return RANK[role] >= RANK[minimum];
}
