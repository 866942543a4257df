import { useState } from 'react';
import { useCustomers } from '../../api/customers.js';
import type { CustomerFilters } from '../../api/types.js';
import { Avatar } from '../../components/Avatar.js';
import { Empty, ErrorState, Loading } from '../../components/States.js';
import { customerPath, customersPath, navigate, useLocation } from '../../lib/router.js';
import { useWorkspace } from '../../lib/workspace.js';
import { customerErrorMessage } from './messages.js';

const DAY_MS = 86_400_000;

/** The filters live in the URL (shareable, Back works); "created in the last N days" starts at a day's boundary so the query key stays put. */
function filtersOf(search: URLSearchParams): CustomerFilters {
  const days = Number(search.get('since'));
  const open = search.get('open');
  return {
    q: search.get('q') || undefined,
    kind: search.get('kind') || undefined,
    hasOpenConversation: open === 'yes' ? true : open === 'no' ? false : undefined,
    createdAfter: days > 0 ? new Date(Math.floor(Date.now() / DAY_MS) * DAY_MS - days * DAY_MS).toISOString() : undefined,
  };
}

/** Customers: search by name, email or phone, filter, page with the cursor, open a profile. */
export default function CustomersScreen() {
  const { ws } = useWorkspace();
  const { search } = useLocation();
  const filters = filtersOf(search);
  const customers = useCustomers(ws, filters);
  const [text, setText] = useState(search.get('q') ?? '');
  const set = (key: string, value: string) => {
    const next = new URLSearchParams(search);
    if (value) next.set(key, value);
    else next.delete(key);
    navigate(customersPath(ws, next), { replace: true });
  };
  const items = customers.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <div className="customers-page">
      <h1>Customers</h1>
      <form
        className="inline-form customers-filters"
        aria-label="Search and filter customers"
        onSubmit={(e) => {
          e.preventDefault();
          set('q', text.trim());
        }}
      >
        <input type="search" aria-label="Search customers" placeholder="Name, email or phone" value={text} onChange={(e) => setText(e.target.value)} maxLength={200} />
        <button type="submit" className="btn">
          Search
        </button>
        <select aria-label="Identity" value={search.get('kind') ?? ''} onChange={(e) => set('kind', e.target.value)}>
          <option value="">Any identity</option>
          <option value="email">Has an email</option>
          <option value="phone">Has a phone</option>
        </select>
        <select aria-label="Conversations" value={search.get('open') ?? ''} onChange={(e) => set('open', e.target.value)}>
          <option value="">Any conversations</option>
          <option value="yes">With an open conversation</option>
          <option value="no">Nothing open</option>
        </select>
        <select aria-label="Created" value={search.get('since') ?? ''} onChange={(e) => set('since', e.target.value)}>
          <option value="">Created any time</option>
          <option value="7">Created in the last 7 days</option>
          <option value="30">Created in the last 30 days</option>
        </select>
      </form>
      {customers.isPending ? (
        <Loading />
      ) : customers.isError ? (
        <ErrorState error={new Error(customerErrorMessage(customers.error))} retry={() => customers.refetch()} />
      ) : items.length === 0 && !customers.hasNextPage ? (
        <Empty title={filters.q ? `No customer matches “${filters.q}”` : 'No customers match these filters'}>Search finds a name by its beginning, or an exact email or phone number.</Empty>
      ) : (
        <table className="table customers-table">
          <thead>
            <tr>
              <th>Name</th>
              <th>Email</th>
              <th className="hide-narrow">Phone</th>
              <th className="hide-narrow">Customer since</th>
            </tr>
          </thead>
          <tbody>
            {items.map((c) => (
              <tr key={c.id}>
                <td>
                  <a
                    className="customer-link"
                    href={customerPath(ws, c.id)}
                    onClick={(e) => {
                      e.preventDefault();
                      navigate(customerPath(ws, c.id));
                    }}
                  >
                    <Avatar name={c.name ?? c.email ?? '?'} size={24} /> {c.name ?? 'Unnamed customer'}
                  </a>
                </td>
                <td>{c.email ?? <span className="muted">—</span>}</td>
                <td className="hide-narrow">{c.phone ?? <span className="muted">—</span>}</td>
                <td className="hide-narrow">{new Date(c.createdAt).toLocaleDateString()}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {customers.hasNextPage ? (
        <button type="button" className="btn load-more" disabled={customers.isFetchingNextPage} onClick={() => customers.fetchNextPage()}>
          {customers.isFetchingNextPage ? 'Loading…' : 'Show more customers'}
        </button>
      ) : null}
    </div>
  );
}
