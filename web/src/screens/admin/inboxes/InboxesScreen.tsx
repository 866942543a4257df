import { useState } from 'react';
import { useCreateInbox, useInboxes, useUpdateInbox } from '../../../api/workspace.js';
import type { Inbox } from '../../../api/types.js';
import { Empty, ErrorState, InlineError, Loading } from '../../../components/States.js';
import { useWorkspace } from '../../../lib/workspace.js';

export function InboxesScreen() {
  const { ws } = useWorkspace();
  const inboxes = useInboxes(ws);
  const create = useCreateInbox(ws);
  const [name, setName] = useState('');
  const [channel, setChannel] = useState('api');
  return (
    <div>
      <h1>Inboxes</h1>
      {inboxes.isPending ? <Loading /> : inboxes.isError ? <ErrorState error={inboxes.error} retry={() => inboxes.refetch()} /> : inboxes.data.length === 0 ? <Empty title="No inboxes yet" /> : (
        <table className="table">
          <thead><tr><th>Name</th><th>Channel</th><th>Created</th></tr></thead>
          <tbody>
            {inboxes.data.map((i) => (
              <tr key={i.id}><td><InboxName inbox={i} /></td><td><span className="badge channel">{i.channel}</span></td><td>{new Date(i.createdAt).toLocaleDateString()}</td></tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>New inbox</h2>
      <form className="inline-form" onSubmit={(e) => { e.preventDefault(); create.mutate({ name: name.trim(), channel: channel.trim() }, { onSuccess: () => setName('') }); }}>
        <input aria-label="Inbox name" placeholder="Name" value={name} onChange={(e) => setName(e.target.value)} required maxLength={100} />
        <input aria-label="Channel" placeholder="channel (api, email, …)" value={channel} onChange={(e) => setChannel(e.target.value)} required pattern="[a-z][a-z0-9_]*" />
        <button type="submit" className="btn btn-primary" disabled={create.isPending}>Create</button>
      </form>
      <InlineError error={create.error} />
    </div>
  );
}

/** The inbox's name, renamed in place (admin). Settings are changed through the API (PATCH settings). */
function InboxName({ inbox }: { inbox: Inbox }) {
  const { ws } = useWorkspace();
  const update = useUpdateInbox(ws);
  const [name, setName] = useState<string | null>(null);
  if (name === null) {
    return (
      <>
        {inbox.name}{' '}
        <button type="button" className="btn btn-small" aria-label={`Rename inbox ${inbox.name}`} onClick={() => setName(inbox.name)}>
          Rename
        </button>
      </>
    );
  }
  return (
    <form className="inline-form" onSubmit={(e) => { e.preventDefault(); update.mutate({ id: inbox.id, name: name.trim() }, { onSuccess: () => setName(null) }); }}>
      <input aria-label="New inbox name" value={name} onChange={(e) => setName(e.target.value)} required maxLength={100} />
      <button type="submit" className="btn btn-primary btn-small" disabled={update.isPending}>Save</button>
      <button type="button" className="btn btn-small" onClick={() => setName(null)}>Cancel</button>
      <InlineError error={update.error} />
    </form>
  );
}
