import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api } from './client.js';
import { keys } from './keys.js';
import type { Session } from './types.js';

export interface Profile {
  id: string;
  email: string;
  name: string;
}

/** PATCH /me: the signed-in person's display name; the session (top bar) shows it at once. */
export function useUpdateProfile() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (input: { name: string }) => api<Profile>('/me', { method: 'PATCH', body: input }),
    onSuccess: (profile) => {
      qc.setQueryData<Session | null>(keys.session, (s) => (s ? { ...s, user: { ...s.user, name: profile.name } } : s));
      // Every workspace's member list shows the name too (assignee pickers, the users screen).
      qc.invalidateQueries({ predicate: (q) => q.queryKey[0] === 'ws' && q.queryKey[2] === 'users' });
    },
  });
}

/** POST /me/password: every other browser is signed out, this one stays; the session's alerts gain one. */
export function useChangePassword() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (input: { currentPassword: string; newPassword: string }) => api<{ sessionsEnded: number; message: string }>('/me/password', { method: 'POST', body: input }),
    onSuccess: () => qc.invalidateQueries({ queryKey: keys.session }),
  });
}
