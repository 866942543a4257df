import { useCustomer } from '../../api/customers.js';
import { Avatar } from '../../components/Avatar.js';
import { ErrorState, Loading } from '../../components/States.js';
import { since } from '../../lib/format.js';
import { customerPath, inboxPath, navigate } from '../../lib/router.js';
import { useWorkspace } from '../../lib/workspace.js';

/** The customer's profile: identities, attributes and their other conversations. */
export function CustomerSidebar({ customerId, currentConversationId }: { customerId: string; currentConversationId: string }) {
  const { ws } = useWorkspace();
  const customer = useCustomer(ws, customerId);
  return (
    <aside className="customer-sidebar" aria-label="Customer">
      {customer.isPending ? (
        <Loading />
      ) : customer.isError ? (
        <ErrorState error={customer.error} retry={() => customer.refetch()} />
      ) : (
        <>
          <div className="customer-head">
            <Avatar name={customer.data.name ?? customer.data.email} size={40} />
            <div>
              <strong className="customer-name">{customer.data.name ?? 'Unnamed customer'}</strong>
              <div>
                <a
                  className="small"
                  href={customerPath(ws, customerId)}
                  onClick={(e) => {
                    e.preventDefault();
                    navigate(customerPath(ws, customerId));
                  }}
                >
                  Open profile
                </a>
              </div>
              <div className="muted small">since {new Date(customer.data.createdAt).toLocaleDateString()}</div>
            </div>
          </div>
          <h3>Identities</h3>
          <ul className="identities">
            {customer.data.identities.map((i) => (
              <li key={i.id}>
                <span className="muted">{i.kind.replace('_', ' ')}</span> <span className="identity-value">{i.value}</span>
              </li>
            ))}
            {customer.data.identities.length === 0 ? <li className="muted">None</li> : null}
          </ul>
          <h3>Attributes</h3>
          {Object.keys(customer.data.customAttributes).length === 0 ? (
            <p className="muted small">No attributes</p>
          ) : (
            <dl className="attributes">
              {Object.entries(customer.data.customAttributes).map(([k, v]) => (
                <div key={k}>
                  <dt>{k}</dt>
                  <dd>{v === null ? '—' : String(v)}</dd>
                </div>
              ))}
            </dl>
          )}
          <h3>Conversations</h3>
          <ul className="customer-conversations">
            {customer.data.conversations.map((c) => (
              <li key={c.id} className={c.id === currentConversationId ? 'current' : ''}>
                <a
                  href={inboxPath(ws, 'all', c.id)}
                  onClick={(e) => {
                    e.preventDefault();
                    navigate(inboxPath(ws, 'all', c.id));
                  }}
                >
                  <span className="muted">#{c.number}</span> {c.subject ?? '(no subject)'}
                </a>
                <span className="muted small">
                  {' '}
                  {c.status} · {since(c.lastActivityAt)}
                </span>
              </li>
            ))}
          </ul>
        </>
      )}
    </aside>
  );
}
