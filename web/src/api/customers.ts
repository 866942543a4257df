import { queryOptions, useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from './client.js';
import { keys } from './keys.js';
import type { Conversation, Customer, CustomerDetail, CustomerFilters, Page } from './types.js';

const base = (ws: string) => `/workspaces/${ws}/customers`;

/** GET /customers: newest first, searched and filtered, one cursor page at a time. */
export function useCustomers(ws: string, filters: CustomerFilters) {
  return useInfiniteQuery({
    queryKey: keys.customers.list(ws, filters),
    queryFn: ({ signal, pageParam }) => api<Page<Customer>>(base(ws), { signal, query: { ...filters, limit: 25, cursor: pageParam } }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    staleTime: 15_000,
  });
}

export const customerQuery = (ws: string, id: string) =>
  queryOptions({
    queryKey: keys.customers.detail(ws, id),
    queryFn: ({ signal }) => api<CustomerDetail>(`${base(ws)}/${id}`, { signal }),
    staleTime: 30_000,
  });

/** GET /customers/:id: profile, identities, attributes and other conversations. */
export function useCustomer(ws: string, id: string | null | undefined) {
  return useQuery({ ...customerQuery(ws, id ?? ''), enabled: !!id });
}

/** What a change to a customer refreshes: its profile (set from the answer) and the lists. */
function useCustomerChanged(ws: string) {
  const qc = useQueryClient();
  return (customer: CustomerDetail) => {
    qc.setQueryData(keys.customers.detail(ws, customer.id), customer);
    void qc.invalidateQueries({ queryKey: keys.customers.lists(ws) });
  };
}

/** PATCH /customers/:id (name, note). */
export function useUpdateCustomer(ws: string, id: string) {
  const changed = useCustomerChanged(ws);
  return useMutation({
    mutationFn: (input: { name?: string | null; notes?: string | null }) => api<CustomerDetail>(`${base(ws)}/${id}`, { method: 'PATCH', body: input }),
    onSuccess: changed,
  });
}

/** POST /customers/:id/identities */
export function useAddIdentity(ws: string, id: string) {
  const changed = useCustomerChanged(ws);
  return useMutation({
    mutationFn: (input: { kind: 'email' | 'phone'; value: string }) => api<CustomerDetail>(`${base(ws)}/${id}/identities`, { method: 'POST', body: input }),
    onSuccess: changed,
  });
}

/** DELETE /customers/:id/identities/:identityId */
export function useRemoveIdentity(ws: string, id: string) {
  const changed = useCustomerChanged(ws);
  return useMutation({
    mutationFn: (identityId: string) => api<CustomerDetail>(`${base(ws)}/${id}/identities/${identityId}`, { method: 'DELETE' }),
    onSuccess: changed,
  });
}

export interface OutboundInput {
  customerId: string;
  inboxId: string;
  to: string;
  subject: string;
  body: string;
}

/** POST /conversations/outbound: the agent writes first; refreshes the customer's page and the conversation lists. */
export function useStartOutboundConversation(ws: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (input: OutboundInput) => api<Conversation>(`/workspaces/${ws}/conversations/outbound`, { method: 'POST', body: input }),
    onSuccess: (conversation, input) => {
      qc.setQueryData(keys.conversations.detail(ws, conversation.id), conversation);
      void qc.invalidateQueries({ queryKey: keys.customers.detail(ws, input.customerId) });
      void qc.invalidateQueries({ queryKey: keys.customers.lists(ws) });
      void qc.invalidateQueries({ queryKey: keys.conversations.lists(ws) });
      void qc.invalidateQueries({ queryKey: keys.conversations.counts(ws) });
    },
  });
}
