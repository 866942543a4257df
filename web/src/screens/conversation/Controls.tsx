import type { UseMutationResult } from '@tanstack/react-query';
import { useState } from 'react';
import type { ConversationPatch } from '../../api/conversations.js';
import type { Conversation, Priority, Status } from '../../api/types.js';
import { useTeams, useUsers } from '../../api/workspace.js';
import { fieldError } from '../../components/States.js';
import { toLocalInput } from '../../lib/format.js';
import { useWorkspace } from '../../lib/workspace.js';

const STATUSES: Status[] = ['open', 'pending', 'resolved', 'closed'];
const PRIORITIES: Priority[] = ['low', 'normal', 'high', 'urgent'];

interface Props {
  conversation: Conversation;
  update: UseMutationResult<Conversation, Error, ConversationPatch>;
}

/** Status, priority, assignee, team, tags and snooze. Disabled (read-only) for client viewers. */
export function Controls({ conversation: c, update }: Props) {
  const { ws, user, canWrite } = useWorkspace();
  const users = useUsers(ws);
  const teams = useTeams(ws);
  const [snoozing, setSnoozing] = useState(false);
  const disabled = !canWrite || update.isPending;
  const agents = (users.data ?? []).filter((u) => u.role !== 'client_viewer');

  return (
    <fieldset className="controls" aria-label="Conversation properties">
      <label>
        <span>Status</span>
        <select aria-label="Status" value={c.status === 'snoozed' ? 'snoozed' : c.status} disabled={disabled} onChange={(e) => update.mutate({ status: e.target.value as Status })}>
          {c.status === 'snoozed' ? <option value="snoozed">snoozed</option> : null}
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </label>
      <label>
        <span>Priority</span>
        <select aria-label="Priority" value={c.priority} disabled={disabled} onChange={(e) => update.mutate({ priority: e.target.value as Priority })}>
          {PRIORITIES.map((p) => (
            <option key={p} value={p}>
              {p}
            </option>
          ))}
        </select>
      </label>
      <label>
        <span>Assignee</span>
        <select aria-label="Assignee" value={c.assigneeId ?? ''} disabled={disabled} onChange={(e) => update.mutate({ assigneeId: e.target.value || null })}>
          <option value="">Unassigned</option>
          {c.assigneeId && !agents.some((a) => a.id === c.assigneeId) ? <option value={c.assigneeId}>Someone</option> : null}
          {agents.map((a) => (
            <option key={a.id} value={a.id}>
              {a.id === user.id ? `${a.name} (me)` : a.name}
            </option>
          ))}
        </select>
      </label>
      <label>
        <span>Team</span>
        <select aria-label="Team" value={c.teamId ?? ''} disabled={disabled} onChange={(e) => update.mutate({ teamId: e.target.value || null })}>
          <option value="">No team</option>
          {(teams.data ?? []).map((t) => (
            <option key={t.id} value={t.id}>
              {t.name}
            </option>
          ))}
        </select>
      </label>
      <Tags tags={c.tags} disabled={disabled} error={fieldError(update.error, 'tags')} onChange={(tags) => update.mutate({ tags })} />
      {canWrite ? (
        <div className="control-buttons">
          {c.assigneeId !== user.id ? (
            <button type="button" className="btn" disabled={disabled} onClick={() => update.mutate({ assigneeId: user.id })} title="a">
              Assign to me
            </button>
          ) : null}
          <button type="button" className="btn" disabled={disabled} onClick={() => setSnoozing((s) => !s)} aria-expanded={snoozing}>
            Snooze
          </button>
          {c.status !== 'resolved' ? (
            <button type="button" className="btn btn-primary" disabled={disabled} onClick={() => update.mutate({ status: 'resolved' })} title="e">
              Resolve
            </button>
          ) : (
            <button type="button" className="btn" disabled={disabled} onClick={() => update.mutate({ status: 'open' })}>
              Reopen
            </button>
          )}
        </div>
      ) : null}
      {snoozing ? <SnoozeForm onSnooze={(until) => update.mutate({ status: 'snoozed', snoozedUntil: until }, { onSuccess: () => setSnoozing(false) })} /> : null}
    </fieldset>
  );
}

function SnoozeForm({ onSnooze }: { onSnooze: (iso: string) => void }) {
  const tomorrow = new Date();
  tomorrow.setDate(tomorrow.getDate() + 1);
  tomorrow.setHours(9, 0, 0, 0);
  const [value, setValue] = useState(toLocalInput(tomorrow));
  const presets: [string, () => Date][] = [
    ['1 hour', () => new Date(Date.now() + 3600_000)],
    ['Tomorrow 9:00', () => tomorrow],
    ['Next week', () => new Date(tomorrow.getTime() + 6 * 86400_000)],
  ];
  return (
    <form
      className="snooze"
      onSubmit={(e) => {
        e.preventDefault();
        const when = new Date(value);
        if (!Number.isNaN(when.getTime())) onSnooze(when.toISOString());
      }}
    >
      {presets.map(([label, at]) => (
        <button key={label} type="button" className="btn btn-small" onClick={() => onSnooze(at().toISOString())}>
          {label}
        </button>
      ))}
      <label>
        <span className="sr-only">Snooze until</span>
        <input type="datetime-local" aria-label="Snooze until" value={value} min={toLocalInput(new Date())} onChange={(e) => setValue(e.target.value)} required />
      </label>
      <button type="submit" className="btn btn-small btn-primary">
        Snooze until then
      </button>
    </form>
  );
}

/** `error`: the server's sentence about the tags (validation-messages.ts), shown under the box it is about. */
function Tags({ tags, disabled, error, onChange }: { tags: string[]; disabled: boolean; error: string | null; onChange: (tags: string[]) => void }) {
  const [text, setText] = useState('');
  return (
    <fieldset className="tags" aria-label="Tags">
      {tags.map((t) => (
        <span key={t} className="tag">
          #{t}
          {!disabled ? (
            <button type="button" aria-label={`Remove tag ${t}`} onClick={() => onChange(tags.filter((x) => x !== t))}>
              ×
            </button>
          ) : null}
        </span>
      ))}
      {!disabled ? (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            const tag = text.trim();
            if (tag && !tags.includes(tag)) onChange([...tags, tag]);
            setText('');
          }}
        >
          <input
            className="tag-input"
            aria-label="Add tag"
            placeholder="+ tag"
            value={text}
            maxLength={50}
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? 'tag-error' : undefined}
            onChange={(e) => setText(e.target.value)}
          />
        </form>
      ) : null}
      {error ? (
        <div id="tag-error" className="field-error" role="alert">
          {error}
        </div>
      ) : null}
    </fieldset>
  );
}
