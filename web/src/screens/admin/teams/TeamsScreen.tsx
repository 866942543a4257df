import { useState } from 'react';
import { useCreateTeam, useTeams, useUsers } from '../../../api/workspace.js';
import { Empty, ErrorState, InlineError, Loading } from '../../../components/States.js';
import { useWorkspace } from '../../../lib/workspace.js';

export function TeamsScreen() {
  const { ws } = useWorkspace();
  const teams = useTeams(ws);
  const users = useUsers(ws);
  const create = useCreateTeam(ws);
  const [name, setName] = useState('');
  const [members, setMembers] = useState<string[]>([]);
  const names = new Map((users.data ?? []).map((u) => [u.id, u.name]));
  return (
    <div>
      <h1>Teams</h1>
      {teams.isPending ? <Loading /> : teams.isError ? <ErrorState error={teams.error} retry={() => teams.refetch()} /> : teams.data.length === 0 ? <Empty title="No teams yet" /> : (
        <ul className="plain-list">
          {teams.data.map((t) => (
            <li key={t.id}>
              <strong>{t.name}</strong> <span className="muted">{t.memberIds.map((id) => names.get(id) ?? '?').join(', ') || 'no members'}</span>
            </li>
          ))}
        </ul>
      )}
      <h2>New team</h2>
      <form
        className="stack-form"
        onSubmit={(e) => {
          e.preventDefault();
          create.mutate({ name: name.trim(), memberIds: members }, { onSuccess: () => { setName(''); setMembers([]); } });
        }}
      >
        <input aria-label="Team name" placeholder="Team name" value={name} onChange={(e) => setName(e.target.value)} required maxLength={100} />
        <fieldset>
          <legend>Members</legend>
          {(users.data ?? []).filter((u) => u.role !== 'client_viewer').map((u) => (
            <label key={u.id} className="check">
              <input type="checkbox" checked={members.includes(u.id)} onChange={(e) => setMembers(e.target.checked ? [...members, u.id] : members.filter((m) => m !== u.id))} /> {u.name}
            </label>
          ))}
        </fieldset>
        <button type="submit" className="btn btn-primary" disabled={create.isPending}>Create team</button>
        <InlineError error={create.error} />
      </form>
    </div>
  );
}
