import { queryOptions, useQuery } from '@tanstack/react-query';
import { api } from './client.js';
import { keys } from './keys.js';
import type { CustomerDetail } from './types.js';

export const customerQuery = (ws: string, id: string) =>
  queryOptions({
    queryKey: keys.customers.detail(ws, id),
    queryFn: ({ signal }) => api<CustomerDetail>(`/workspaces/${ws}/customers/${id}`, { signal }),
    staleTime: 30_000,
  });

/** GET /customers/:id: profile, identities, attributes and other conversations. */
export function useCustomer(ws: string, id: string | null | undefined) {
  return useQuery({ ...customerQuery(ws, id ?? ''), enabled: !!id });
}
