import { useState } from 'react';
import { useAddIdentity, useCustomer, useRemoveIdentity, useUpdateCustomer } from '../../api/customers.js';
import type { CustomerDetail } from '../../api/types.js';
import { Avatar } from '../../components/Avatar.js';
import { ErrorState, Loading } from '../../components/States.js';
import { since } from '../../lib/format.js';
import { customersPath, inboxPath, navigate } from '../../lib/router.js';
import { useWorkspace } from '../../lib/workspace.js';
import { checkIdentity, customerErrorMessage } from './messages.js';
import { NewConversation } from './NewConversation.js';

const KIND_LABELS: Record<string, string> = { email: 'Email', phone: 'Phone', external_id: 'External id' };

/** A customer's profile: name, identities, the agents' note, conversations on every channel, and writing to them first. */
export default function CustomerProfileScreen({ customerId }: { customerId: string }) {
  const { ws } = useWorkspace();
  const customer = useCustomer(ws, customerId);
  return (
    <div className="customer-profile">
      <a
        href={customersPath(ws)}
        onClick={(e) => {
          e.preventDefault();
          navigate(customersPath(ws));
        }}
      >
        ← Customers
      </a>
      {customer.isPending ? (
        <Loading />
      ) : customer.isError ? (
        <ErrorState error={new Error(customerErrorMessage(customer.error))} retry={() => customer.refetch()} />
      ) : (
        <Profile key={customer.data.id} customer={customer.data} />
      )}
    </div>
  );
}

function Profile({ customer }: { customer: CustomerDetail }) {
  const { ws, canWrite } = useWorkspace();
  const [writing, setWriting] = useState(false);
  const emails = customer.identities.filter((i) => i.kind === 'email').map((i) => i.value);
  return (
    <>
      <div className="profile-head">
        <Avatar name={customer.name ?? customer.email} size={48} />
        <NameEditor customer={customer} />
        {canWrite && !writing ? (
          <button type="button" className="btn btn-primary" onClick={() => setWriting(true)} disabled={emails.length === 0} title={emails.length === 0 ? 'Add an email address first' : undefined}>
            New conversation
          </button>
        ) : null}
      </div>
      <div className="muted small">Customer since {new Date(customer.createdAt).toLocaleDateString()}</div>
      {writing ? <NewConversation customerId={customer.id} emails={emails} onDone={() => setWriting(false)} /> : null}
      <div className="profile-columns">
        <section aria-labelledby="identities-h">
          <h2 id="identities-h">Emails and phones</h2>
          <Identities customer={customer} />
          {canWrite ? <Notes customer={customer} /> : null}
        </section>
        <section aria-labelledby="conversations-h">
          <h2 id="conversations-h">Conversations</h2>
          {customer.conversations.length === 0 ? (
            <p className="muted">No conversations yet.</p>
          ) : (
            <ul className="plain-list profile-conversations">
              {customer.conversations.map((c) => (
                <li key={c.id}>
                  <a
                    href={inboxPath(ws, 'all', c.id)}
                    onClick={(e) => {
                      e.preventDefault();
                      navigate(inboxPath(ws, 'all', c.id));
                    }}
                  >
                    <span className="muted">#{c.number}</span> {c.subject ?? '(no subject)'}
                  </a>{' '}
                  <span className={`badge status-pill status-${c.status}`}>{c.status}</span> <span className="muted small">{c.channel}</span>{' '}
                  <span className="muted small">· {since(c.lastActivityAt)}</span>
                </li>
              ))}
            </ul>
          )}
        </section>
      </div>
      {Object.keys(customer.customAttributes).length > 0 ? (
        <section>
          <h2>Attributes</h2>
          <dl className="attributes">
            {Object.entries(customer.customAttributes).map(([k, v]) => (
              <div key={k}>
                <dt>{k}</dt>
                <dd>{v === null ? '—' : String(v)}</dd>
              </div>
            ))}
          </dl>
        </section>
      ) : null}
    </>
  );
}

function NameEditor({ customer }: { customer: CustomerDetail }) {
  const { ws, canWrite } = useWorkspace();
  const update = useUpdateCustomer(ws, customer.id);
  const [name, setName] = useState<string | null>(null);
  if (name === null) {
    return (
      <h1 className="profile-name">
        {customer.name ?? 'Unnamed customer'}{' '}
        {canWrite ? (
          <button type="button" className="btn btn-small" onClick={() => setName(customer.name ?? '')}>
            Edit name
          </button>
        ) : null}
      </h1>
    );
  }
  return (
    <form
      className="inline-form"
      onSubmit={(e) => {
        e.preventDefault();
        update.mutate({ name: name.trim() || null }, { onSuccess: () => setName(null) });
      }}
    >
      <input aria-label="Name" value={name} onChange={(e) => setName(e.target.value)} maxLength={200} />
      <button type="submit" className="btn btn-primary" disabled={update.isPending}>
        Save name
      </button>
      <button type="button" className="btn" onClick={() => setName(null)}>
        Cancel
      </button>
      {update.error ? (
        <div className="inline-error" role="alert">
          {customerErrorMessage(update.error, 'name')}
        </div>
      ) : null}
    </form>
  );
}

function Identities({ customer }: { customer: CustomerDetail }) {
  const { ws, canWrite } = useWorkspace();
  const add = useAddIdentity(ws, customer.id);
  const remove = useRemoveIdentity(ws, customer.id);
  const [kind, setKind] = useState<'email' | 'phone'>('email');
  const [value, setValue] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const error = problem ?? (add.error ? customerErrorMessage(add.error) : remove.error ? customerErrorMessage(remove.error) : null);
  return (
    <>
      <ul className="plain-list identities">
        {customer.identities.map((i) => (
          <li key={i.id}>
            <span className="muted">{KIND_LABELS[i.kind] ?? i.kind.replace('_', ' ')}</span> <span className="identity-value">{i.value}</span>{' '}
            {canWrite && (i.kind === 'email' || i.kind === 'phone') ? (
              <button
                type="button"
                className="btn btn-small btn-ghost"
                aria-label={`Remove ${i.value}`}
                disabled={remove.isPending}
                onClick={() => {
                  setProblem(null);
                  add.reset();
                  remove.mutate(i.id);
                }}
              >
                Remove
              </button>
            ) : null}
          </li>
        ))}
      </ul>
      {canWrite ? (
        <form
          className="inline-form"
          noValidate
          onSubmit={(e) => {
            e.preventDefault();
            remove.reset();
            const wrong = checkIdentity(kind, value);
            setProblem(wrong);
            if (wrong) return;
            add.mutate({ kind, value: value.trim() }, { onSuccess: () => setValue('') });
          }}
        >
          <select aria-label="Kind" value={kind} onChange={(e) => setKind(e.target.value as 'email' | 'phone')}>
            <option value="email">Email</option>
            <option value="phone">Phone</option>
          </select>
          <input
            aria-label={kind === 'email' ? 'New email address' : 'New phone number'}
            type={kind === 'email' ? 'email' : 'tel'}
            placeholder={kind === 'email' ? 'name@example.com' : '+44 20 7946 0958'}
            value={value}
            onChange={(e) => {
              setValue(e.target.value);
              setProblem(null);
            }}
            maxLength={254}
          />
          <button type="submit" className="btn" disabled={add.isPending}>
            Add
          </button>
        </form>
      ) : null}
      {error ? (
        <div className="inline-error" role="alert">
          {error}
        </div>
      ) : null}
    </>
  );
}

/** The agents' internal note on the customer: a client viewer never sees it (nor this box). */
function Notes({ customer }: { customer: CustomerDetail }) {
  const { ws } = useWorkspace();
  const update = useUpdateCustomer(ws, customer.id);
  const [notes, setNotes] = useState(customer.notes ?? '');
  const changed = notes !== (customer.notes ?? '');
  return (
    <form
      className="stack-form customer-notes"
      onSubmit={(e) => {
        e.preventDefault();
        update.mutate({ notes: notes.trim() ? notes : null });
      }}
    >
      <label htmlFor="customer-notes">
        <h2>Notes</h2>
        <span className="muted small">Only agents see these notes.</span>
      </label>
      <textarea id="customer-notes" rows={4} value={notes} onChange={(e) => setNotes(e.target.value)} placeholder="What the team should know about this customer" />
      {notes.length > 10000 ? (
        <div className="inline-error" role="alert">
          The note is at most 10,000 characters.
        </div>
      ) : null}
      <div>
        <button type="submit" className="btn" disabled={!changed || update.isPending || notes.length > 10000}>
          {update.isPending ? 'Saving…' : 'Save notes'}
        </button>{' '}
        {update.isSuccess && !changed ? <span className="muted small">Saved</span> : null}
      </div>
      {update.error ? (
        <div className="inline-error" role="alert">
          {customerErrorMessage(update.error, 'notes')}
        </div>
      ) : null}
    </form>
  );
}
