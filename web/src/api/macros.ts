import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, isMissingEndpoint } from './client.js';
import { keys } from './keys.js';
import { keepNewer, type ReplyGuard } from './conversations.js';
import type { Conversation, Macro, MacroActions, Message } from './types.js';

const base = (ws: string) => `/workspaces/${ws}/macros`;

/** GET /macros; null when the server has no macros endpoint (the composer hides the picker). */
export function useMacros(ws: string) {
  return useQuery({
    queryKey: keys.macros(ws),
    queryFn: async ({ signal }) => {
      try {
        return (await api<{ items: Macro[] }>(base(ws), { signal })).items;
      } catch (error) {
        if (isMissingEndpoint(error)) return null;
        throw error;
      }
    },
    staleTime: 60_000,
  });
}

export interface MacroInput {
  name: string;
  body: string;
  actions: MacroActions;
}

/** POST /macros */
export function useCreateMacro(ws: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (input: MacroInput) => api<Macro>(base(ws), { method: 'POST', body: input }),
    onSuccess: () => qc.invalidateQueries({ queryKey: keys.macros(ws) }),
  });
}

/** PATCH /macros/:id */
export function useUpdateMacro(ws: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ id, ...input }: MacroInput & { id: string }) => api<Macro>(`${base(ws)}/${id}`, { method: 'PATCH', body: input }),
    onSuccess: () => qc.invalidateQueries({ queryKey: keys.macros(ws) }),
  });
}

/** DELETE /macros/:id */
export function useDeleteMacro(ws: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api<void>(`${base(ws)}/${id}`, { method: 'DELETE' }),
    onSuccess: () => qc.invalidateQueries({ queryKey: keys.macros(ws) }),
  });
}

/**
 * POST /conversations/:id/macros/:macroId/apply. Without `send` it only renders the body
 * (placeholders filled) for the composer: nothing is applied. With `send` (what the composer does when
 * the agent sends a reply that came from a macro) the server adds the message, with the agent's
 * edited `body` when given, then applies the macro's status, priority and tag actions.
 */
export function useApplyMacro(ws: string, conversationId: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (input: { macroId: string; send?: boolean; type?: 'reply' | 'note'; body?: string } & ReplyGuard) =>
      api<{ body: string; actions: MacroActions; message: Message | null; conversation: Conversation | null }>(`/workspaces/${ws}/conversations/${conversationId}/macros/${input.macroId}/apply`, {
        method: 'POST',
        body: input.send
          ? {
              send: true,
              type: input.type ?? 'reply',
              ...(input.body !== undefined ? { body: input.body } : {}),
              ...(input.lastSeenMessageId ? { lastSeenMessageId: input.lastSeenMessageId } : {}),
              ...(input.sendAnyway ? { sendAnyway: true } : {}),
            }
          : {},
      }),
    onSuccess: (result) => {
      if (!result.message) return;
      if (result.conversation) qc.setQueryData<Conversation>(keys.conversations.detail(ws, conversationId), keepNewer(result.conversation));
      void qc.invalidateQueries({ queryKey: keys.conversations.messages(ws, conversationId) });
      void qc.invalidateQueries({ queryKey: keys.conversations.events(ws, conversationId) });
      void qc.invalidateQueries({ queryKey: keys.conversations.lists(ws) });
      void qc.invalidateQueries({ queryKey: keys.conversations.counts(ws) });
      void qc.invalidateQueries({ queryKey: keys.tags(ws) });
    },
  });
}
