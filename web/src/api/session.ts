import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, ApiError, setCsrfToken } from './client.js';
import { keys } from './keys.js';
import type { Session } from './types.js';

async function fetchSession(): Promise<Session | null> {
  try {
    const session = await api<Session>('/auth/session', { quiet401: true });
    setCsrfToken(session.csrfToken);
    return session;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return null;
    throw error;
  }
}

export const sessionQuery = { queryKey: keys.session, queryFn: fetchSession, staleTime: Infinity, retry: 1 } as const;

/** GET /auth/session: null when nobody is signed in. */
export function useSession() {
  return useQuery(sessionQuery);
}

/** GET /auth/capabilities: whether this server can send email (invitations, reset links); public. */
export function useCapabilities() {
  return useQuery({ queryKey: keys.capabilities, queryFn: () => api<{ canSendEmail: boolean }>('/auth/capabilities', { quiet401: true }), staleTime: Infinity });
}

/** POST /auth/login */
export function useLogin() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (input: { email: string; password: string }) => api<Session>('/auth/login', { method: 'POST', body: input, quiet401: true }),
    onSuccess: (session) => {
      setCsrfToken(session.csrfToken);
      qc.setQueryData(keys.session, session);
    },
  });
}

/** POST /auth/password-resets: mails a reset link (the answer is the same whether an account uses the email). */
export function useRequestPasswordReset() {
  return useMutation({
    mutationFn: (input: { email: string }) => api<{ message: string }>('/auth/password-resets', { method: 'POST', body: input, quiet401: true }),
  });
}

/** POST /auth/password-resets/accept: sets the password; every session of the account ends, this browser's too. */
export function useResetPassword() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (input: { token: string; password: string }) => api<{ email: string }>('/auth/password-resets/accept', { method: 'POST', body: input, quiet401: true }),
    onSuccess: () => {
      setCsrfToken(null);
      qc.clear();
      qc.setQueryData(keys.session, null);
    },
  });
}

/** POST /auth/logout */
export function useLogout() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: () => api<void>('/auth/logout', { method: 'POST', quiet401: true }),
    onSettled: () => {
      setCsrfToken(null);
      qc.clear();
      qc.setQueryData(keys.session, null);
    },
  });
}

/** POST /auth/alerts/:id/dismiss: the person has read a security alert about their account. */
export function useDismissAlert() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api<void>(`/auth/alerts/${id}/dismiss`, { method: 'POST' }),
    onSuccess: (_void, id) => qc.setQueryData<Session | null>(keys.session, (s) => (s ? { ...s, alerts: s.alerts.filter((a) => a.id !== id) } : s)),
  });
}
