import { useState } from 'react';
import { useBulkUpdate } from '../../api/conversations.js';
import type { BulkAction, BulkResult } from '../../api/types.js';
import { useUsers } from '../../api/workspace.js';
import { errorMessage } from '../../components/States.js';
import { useWorkspace } from '../../lib/workspace.js';

interface Props {
  ids: string[];
  /** Called with the ids that changed (they leave the selection) once an action answered. */
  onDone: (changed: string[]) => void;
  onClear: () => void;
}

const SNOOZES: Array<{ label: string; until: () => Date }> = [
  { label: '1 hour', until: () => new Date(Date.now() + 3600_000) },
  { label: 'Tomorrow morning', until: () => atNine(1) },
  { label: 'Next week', until: () => atNine(7) },
];

function atNine(days: number): Date {
  const d = new Date();
  d.setDate(d.getDate() + days);
  d.setHours(9, 0, 0, 0);
  return d;
}

const plural = (n: number) => `${n} conversation${n === 1 ? '' : 's'}`;

/** What happened, in people's words: how many changed, and why the others did not. */
export function bulkSummary(result: BulkResult): string {
  const failed = result.results.filter((r) => !r.ok);
  if (failed.length === 0) return `Done: ${plural(result.changed)} updated.`;
  const reasons = [...new Set(failed.map((r) => (r.code === 'conversations.not_found' ? 'no longer exists or is not in this workspace' : (r.message ?? 'refused'))))];
  return `${plural(result.changed)} updated; ${plural(failed.length)} could not be: ${reasons.join('; ')}.`;
}

/** The actions on the checked rows: assign, status, priority, tag, snooze and close (asked to confirm). */
export function BulkBar({ ids, onDone, onClear }: Props) {
  const { ws, user } = useWorkspace();
  const users = useUsers(ws);
  const bulk = useBulkUpdate(ws);
  const [tag, setTag] = useState('');
  const [confirmClose, setConfirmClose] = useState(false);
  const [summary, setSummary] = useState<string | null>(null);
  const agents = (users.data ?? []).filter((u) => u.role !== 'client_viewer');

  const run = (action: BulkAction, value?: string | null) => {
    setSummary(null);
    bulk.mutate(
      { ids, action, ...(value !== undefined ? { value } : {}) },
      {
        onSuccess: (result) => {
          setSummary(bulkSummary(result));
          onDone(result.results.filter((r) => r.ok).map((r) => r.id));
        },
      },
    );
  };

  return (
    <>
      {ids.length > 0 ? (
        <div className="bulk-bar" role="toolbar" aria-label="Bulk actions">
          <span className="bulk-count">{ids.length} selected</span>
          <select aria-label="Assign selected" value="" disabled={bulk.isPending} onChange={(e) => e.target.value && run('assign', e.target.value === 'nobody' ? null : e.target.value)}>
            <option value="">Assign…</option>
            <option value={user.id}>Me</option>
            {agents
              .filter((a) => a.id !== user.id)
              .map((a) => (
                <option key={a.id} value={a.id}>
                  {a.name}
                </option>
              ))}
            <option value="nobody">Nobody</option>
          </select>
          <select aria-label="Set status of selected" value="" disabled={bulk.isPending} onChange={(e) => e.target.value && run('status', e.target.value)}>
            <option value="">Status…</option>
            <option value="open">Open</option>
            <option value="pending">Pending</option>
            <option value="resolved">Resolved</option>
          </select>
          <select aria-label="Set priority of selected" value="" disabled={bulk.isPending} onChange={(e) => e.target.value && run('priority', e.target.value)}>
            <option value="">Priority…</option>
            <option value="urgent">Urgent</option>
            <option value="high">High</option>
            <option value="normal">Normal</option>
            <option value="low">Low</option>
          </select>
          <select
            aria-label="Snooze selected"
            value=""
            disabled={bulk.isPending}
            onChange={(e) => {
              const s = SNOOZES.find((x) => x.label === e.target.value);
              if (s) run('snooze', s.until().toISOString());
            }}
          >
            <option value="">Snooze…</option>
            {SNOOZES.map((s) => (
              <option key={s.label} value={s.label}>
                {s.label}
              </option>
            ))}
          </select>
          <input type="text" aria-label="Tag for selected" placeholder="tag" value={tag} maxLength={50} onChange={(e) => setTag(e.target.value)} />
          <button type="button" className="btn btn-small" disabled={bulk.isPending || !tag.trim()} onClick={() => run('tag', tag.trim())}>
            Add tag
          </button>
          <button type="button" className="btn btn-small" disabled={bulk.isPending || !tag.trim()} onClick={() => run('untag', tag.trim())}>
            Remove tag
          </button>
          {confirmClose ? (
            <span className="inline-confirm">
              Close {plural(ids.length)}?{' '}
              <button
                type="button"
                className="btn btn-small btn-primary"
                disabled={bulk.isPending}
                onClick={() => {
                  setConfirmClose(false);
                  run('close');
                }}
              >
                Close them
              </button>{' '}
              <button type="button" className="btn btn-small" onClick={() => setConfirmClose(false)}>
                Cancel
              </button>
            </span>
          ) : (
            <button type="button" className="btn btn-small" disabled={bulk.isPending} onClick={() => setConfirmClose(true)}>
              Close…
            </button>
          )}
          <button type="button" className="btn btn-small btn-ghost" onClick={onClear}>
            Clear selection
          </button>
        </div>
      ) : null}
      {bulk.isError ? (
        <div className="bulk-result inline-error" role="alert">
          {errorMessage(bulk.error)}
        </div>
      ) : summary ? (
        <div className="bulk-result" role="status" data-testid="bulk-result">
          {summary}
        </div>
      ) : null}
    </>
  );
}
