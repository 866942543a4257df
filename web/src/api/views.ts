import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, isMissingEndpoint } from './client.js';
import { keys } from './keys.js';
import type { SavedView, SavedViewFilters } from './types.js';

const base = (ws: string) => `/workspaces/${ws}/saved-views`;

/** GET /saved-views: mine and the shared ones; [] for a role without saved views or an older server. */
export function useSavedViews(ws: string, enabled = true) {
  return useQuery({
    queryKey: keys.savedViews(ws),
    queryFn: async ({ signal }) => {
      try {
        return (await api<{ items: SavedView[] }>(base(ws), { signal })).items;
      } catch (error) {
        if (isMissingEndpoint(error)) return [];
        throw error;
      }
    },
    enabled,
    staleTime: 60_000,
  });
}

/** POST /saved-views */
export function useCreateSavedView(ws: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (input: { name: string; filters: SavedViewFilters; shared: boolean }) => api<SavedView>(base(ws), { method: 'POST', body: input }),
    onSuccess: () => qc.invalidateQueries({ queryKey: keys.savedViews(ws) }),
  });
}

/** PATCH /saved-views/:id (rename, share, unshare) */
export function useUpdateSavedView(ws: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ id, ...patch }: { id: string; name?: string; shared?: boolean; filters?: SavedViewFilters }) => api<SavedView>(`${base(ws)}/${id}`, { method: 'PATCH', body: patch }),
    onSuccess: () => qc.invalidateQueries({ queryKey: keys.savedViews(ws) }),
  });
}

/** DELETE /saved-views/:id */
export function useDeleteSavedView(ws: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api<void>(`${base(ws)}/${id}`, { method: 'DELETE' }),
    onSuccess: () => qc.invalidateQueries({ queryKey: keys.savedViews(ws) }),
  });
}
