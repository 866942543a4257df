import { useState } from 'react';
import { useCreateMacro, useDeleteMacro, useMacros, useUpdateMacro, type MacroInput } from '../../../api/macros.js';
import type { Macro, Priority, Status } from '../../../api/types.js';
import { Empty, ErrorState, InlineError, Loading } from '../../../components/States.js';
import { useWorkspace } from '../../../lib/workspace.js';

const EMPTY: MacroInput = { name: '', body: '', actions: {} };

export function MacrosScreen() {
  const { ws } = useWorkspace();
  const macros = useMacros(ws);
  const create = useCreateMacro(ws);
  const update = useUpdateMacro(ws);
  const remove = useDeleteMacro(ws);
  const [editing, setEditing] = useState<(MacroInput & { id?: string }) | null>(null);
  if (macros.isPending) return <Loading />;
  if (macros.isError) return <ErrorState error={macros.error} retry={() => macros.refetch()} />;
  if (macros.data === null) return <Empty title="Macros are not available on this server yet" />;
  const save = (m: MacroInput & { id?: string }) => {
    const done = { onSuccess: () => setEditing(null) };
    if (m.id) update.mutate({ ...m, id: m.id }, done);
    else create.mutate(m, done);
  };
  return (
    <div>
      <h1>Macros</h1>
      <p className="muted">
        Canned replies. Placeholders: <code>{'{{customer.first_name}}'}</code>, <code>{'{{customer.name}}'}</code>, <code>{'{{agent.name}}'}</code>, <code>{'{{conversation.number}}'}</code>.
      </p>
      {macros.data.length === 0 ? (
        <Empty title="No macros yet" />
      ) : (
        <ul className="plain-list">
          {macros.data.map((m: Macro) => (
            <li key={m.id}>
              <strong>{m.name}</strong> <span className="muted">{describe(m)}</span>{' '}
              <button type="button" className="btn btn-small" onClick={() => setEditing({ id: m.id, name: m.name, body: m.body, actions: m.actions ?? {} })}>
                Edit
              </button>{' '}
              <button type="button" className="btn btn-small" onClick={() => confirm(`Delete ${m.name}?`) && remove.mutate(m.id)}>
                Delete
              </button>
            </li>
          ))}
        </ul>
      )}
      {editing ? (
        <MacroForm initial={editing} onSave={save} onCancel={() => setEditing(null)} pending={create.isPending || update.isPending} />
      ) : (
        <button type="button" className="btn btn-primary" onClick={() => setEditing(EMPTY)}>
          New macro
        </button>
      )}
      <InlineError error={create.error ?? update.error ?? remove.error} />
    </div>
  );
}

function describe(m: Macro): string {
  const a = m.actions ?? {};
  return [a.status && `status → ${a.status}`, a.priority && `priority → ${a.priority}`, a.addTags?.length && `tags + ${a.addTags.join(', ')}`].filter(Boolean).join(' · ');
}

function MacroForm({ initial, onSave, onCancel, pending }: { initial: MacroInput & { id?: string }; onSave: (m: MacroInput & { id?: string }) => void; onCancel: () => void; pending: boolean }) {
  const [m, setM] = useState(initial);
  const [tags, setTags] = useState((initial.actions.addTags ?? []).join(', '));
  return (
    <form
      className="stack-form"
      onSubmit={(e) => {
        e.preventDefault();
        const addTags = tags
          .split(',')
          .map((t) => t.trim())
          .filter(Boolean);
        const actions = { ...m.actions, ...(addTags.length ? { addTags } : { addTags: undefined }) };
        onSave({ ...m, name: m.name.trim(), actions: JSON.parse(JSON.stringify(actions)) });
      }}
    >
      <input aria-label="Macro name" placeholder="Name" value={m.name} onChange={(e) => setM({ ...m, name: e.target.value })} required maxLength={100} />
      <textarea aria-label="Macro body" placeholder="Hi {{customer.first_name}}, …" rows={5} value={m.body} onChange={(e) => setM({ ...m, body: e.target.value })} required />
      <div className="inline-form">
        <select aria-label="Set status" value={m.actions.status ?? ''} onChange={(e) => setM({ ...m, actions: { ...m.actions, status: (e.target.value || undefined) as Status | undefined } })}>
          <option value="">Status unchanged</option>
          {(['open', 'pending', 'resolved'] as Status[]).map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
        <select aria-label="Set priority" value={m.actions.priority ?? ''} onChange={(e) => setM({ ...m, actions: { ...m.actions, priority: (e.target.value || undefined) as Priority | undefined } })}>
          <option value="">Priority unchanged</option>
          {(['low', 'normal', 'high', 'urgent'] as Priority[]).map((p) => (
            <option key={p} value={p}>
              {p}
            </option>
          ))}
        </select>
        <input aria-label="Add tags" placeholder="add tags, comma separated" value={tags} onChange={(e) => setTags(e.target.value)} />
      </div>
      <div>
        <button type="submit" className="btn btn-primary" disabled={pending}>
          Save macro
        </button>{' '}
        <button type="button" className="btn" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
