import { queryOptions, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, isMissingEndpoint } from './client.js';
import { keys } from './keys.js';
import type { AcceptedInvitation, CreatedToken, Inbox, Invitation, Member, Role, Team, TokenInfo } from './types.js';

const w = (ws: string) => `/workspaces/${ws}`;

export const usersQuery = (ws: string) => queryOptions({ queryKey: keys.users(ws), queryFn: ({ signal }) => api<{ items: Member[] }>(`${w(ws)}/users`, { signal }), staleTime: 60_000 });

/** GET /users: members (assignee picker, admin). */
export function useUsers(ws: string) {
  return useQuery({ ...usersQuery(ws), select: (d) => d.items });
}

/** PATCH /users/:id: change a member's role. */
export function useUpdateUserRole(ws: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (input: { id: string; role: Role }) => api<Member>(`${w(ws)}/users/${input.id}`, { method: 'PATCH', body: { role: input.role } }),
    onSuccess: () => qc.invalidateQueries({ queryKey: keys.users(ws) }),
  });
}

/** DELETE /users/:id: remove a member from the workspace. */
export function useRemoveUser(ws: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api<void>(`${w(ws)}/users/${id}`, { method: 'DELETE' }),
    onSuccess: () => qc.invalidateQueries({ queryKey: keys.users(ws) }),
  });
}

/** GET /invitations; null when the server has no invitations yet. */
export function useInvitations(ws: string) {
  return useQuery({
    queryKey: keys.invitations(ws),
    queryFn: async ({ signal }) => {
      try {
        return (await api<{ items: Invitation[] }>(`${w(ws)}/invitations`, { signal })).items;
      } catch (error) {
        if (isMissingEndpoint(error)) return null;
        throw error;
      }
    },
  });
}

/** POST /invitations */
export function useCreateInvitation(ws: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (input: { email: string; role: Role }) => api<Invitation>(`${w(ws)}/invitations`, { method: 'POST', body: input }),
    onSuccess: () => qc.invalidateQueries({ queryKey: keys.invitations(ws) }),
  });
}

/** DELETE /invitations/:id */
export function useRevokeInvitation(ws: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api<void>(`${w(ws)}/invitations/${id}`, { method: 'DELETE' }),
    onSuccess: () => qc.invalidateQueries({ queryKey: keys.invitations(ws) }),
  });
}

/** POST /invitations/accept (outside any workspace). */
/** What an invitation link opens (POST /invitations/preview: the token stays out of URLs): the workspace, the invited email, the role. */
export interface InvitationPreview {
  workspace: { name: string };
  email: string;
  role: Role;
  invitedBy: string | null;
  expiresAt: string;
}

export function useInvitationPreview(token: string) {
  return useQuery({
    queryKey: keys.invitationPreview(token),
    queryFn: () => api<InvitationPreview>('/invitations/preview', { method: 'POST', body: { token }, quiet401: true }),
    enabled: token.length > 0,
    retry: false,
    staleTime: Infinity,
  });
}

/** POST /invitations/accept */
export function useAcceptInvitation() {
  return useMutation({
    mutationFn: (input: { token: string; name?: string; password?: string }) => api<AcceptedInvitation>('/invitations/accept', { method: 'POST', body: input, quiet401: true }),
  });
}

export const teamsQuery = (ws: string) => queryOptions({ queryKey: keys.teams(ws), queryFn: ({ signal }) => api<{ items: Team[] }>(`${w(ws)}/teams`, { signal }), staleTime: 60_000 });

/** GET /teams */
export function useTeams(ws: string) {
  return useQuery({ ...teamsQuery(ws), select: (d) => d.items });
}

/** POST /teams */
export function useCreateTeam(ws: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (input: { name: string; memberIds?: string[] }) => api<Team>(`${w(ws)}/teams`, { method: 'POST', body: input }),
    onSuccess: () => qc.invalidateQueries({ queryKey: keys.teams(ws) }),
  });
}

/** GET /inboxes */
export function useInboxes(ws: string) {
  return useQuery({ queryKey: keys.inboxes(ws), queryFn: ({ signal }) => api<{ items: Inbox[] }>(`${w(ws)}/inboxes`, { signal }), staleTime: 60_000, select: (d) => d.items });
}

/** POST /inboxes */
export function useCreateInbox(ws: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (input: { name: string; channel: string; settings?: Record<string, unknown> }) => api<Inbox>(`${w(ws)}/inboxes`, { method: 'POST', body: input }),
    onSuccess: () => qc.invalidateQueries({ queryKey: keys.inboxes(ws) }),
  });
}

/** GET /inboxes/:id: one inbox; admins get its settings, secrets masked. */
export function useInbox(ws: string, id: string) {
  return useQuery({ queryKey: keys.inbox(ws, id), queryFn: ({ signal }) => api<Inbox>(`${w(ws)}/inboxes/${id}`, { signal }) });
}

/** POST /inboxes/:id/disable (admin): no new mail, no replies; conversations kept. */
export function useDisableInbox(ws: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api<Inbox>(`${w(ws)}/inboxes/${id}/disable`, { method: 'POST', body: {} }),
    onSuccess: () => qc.invalidateQueries({ queryKey: keys.inboxes(ws) }),
  });
}

/** POST /inboxes/:id/enable (admin) */
export function useEnableInbox(ws: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api<Inbox>(`${w(ws)}/inboxes/${id}/enable`, { method: 'POST', body: {} }),
    onSuccess: () => qc.invalidateQueries({ queryKey: keys.inboxes(ws) }),
  });
}

/** DELETE /inboxes/:id (admin): only an inbox without conversations. */
export function useDeleteInbox(ws: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api<void>(`${w(ws)}/inboxes/${id}`, { method: 'DELETE' }),
    onSuccess: (_data, id) => {
      qc.removeQueries({ queryKey: keys.inbox(ws, id) });
      return qc.invalidateQueries({ queryKey: keys.inboxes(ws) });
    },
  });
}

/** PATCH /inboxes/:id (admin): rename, or replace the settings. */
export function useUpdateInbox(ws: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ id, ...input }: { id: string; name?: string; settings?: Record<string, unknown> }) => api<Inbox>(`${w(ws)}/inboxes/${id}`, { method: 'PATCH', body: input }),
    onSuccess: () => qc.invalidateQueries({ queryKey: keys.inboxes(ws) }),
  });
}

/** PATCH /teams/:id (admin): rename, add and remove members. */
export function useUpdateTeam(ws: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ id, ...input }: { id: string; name?: string; addMemberIds?: string[]; removeMemberIds?: string[] }) => api<Team>(`${w(ws)}/teams/${id}`, { method: 'PATCH', body: input }),
    onSuccess: () => qc.invalidateQueries({ queryKey: keys.teams(ws) }),
  });
}

/** GET /tokens (admin) */
export function useTokens(ws: string) {
  return useQuery({ queryKey: keys.tokens(ws), queryFn: ({ signal }) => api<{ items: TokenInfo[] }>(`${w(ws)}/tokens`, { signal }), select: (d) => d.items });
}

/** POST /tokens: needs the admin's password again; the secret is in the answer, once. */
export function useCreateToken(ws: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (input: { name: string; role: Exclude<Role, 'owner'>; currentPassword: string }) => api<CreatedToken>(`${w(ws)}/tokens`, { method: 'POST', body: input }),
    onSuccess: () => qc.invalidateQueries({ queryKey: keys.tokens(ws) }),
  });
}

/** DELETE /tokens/:id */
export function useRevokeToken(ws: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api<TokenInfo>(`${w(ws)}/tokens/${id}`, { method: 'DELETE' }),
    onSuccess: () => qc.invalidateQueries({ queryKey: keys.tokens(ws) }),
  });
}
