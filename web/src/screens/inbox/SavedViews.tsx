import { useState } from 'react';
import type { ConversationFilters, SavedView, SavedViewFilters } from '../../api/types.js';
import { useCreateSavedView, useDeleteSavedView, useUpdateSavedView } from '../../api/views.js';
import { InlineError } from '../../components/States.js';
import { inboxPath, navigate } from '../../lib/router.js';
import { useWorkspace } from '../../lib/workspace.js';

/** The list's filters as a saved view keeps them (the list API's own). */
export function savedFiltersOf(filters: ConversationFilters): SavedViewFilters {
  const out: SavedViewFilters = {};
  if (filters.status?.length) out.status = [...new Set(filters.status)];
  if (filters.assignee) out.assignee = filters.assignee;
  if (filters.team) out.team = filters.team;
  if (filters.priority) out.priority = filters.priority;
  if (filters.tag) out.tag = filters.tag;
  if (filters.q) out.q = filters.q;
  if (filters.sort && filters.sort !== 'last_activity') out.sort = filters.sort;
  return out;
}

/** A saved view's list filters; the URL's own search and sort, when set, apply on top. */
export function listFiltersOf(saved: SavedViewFilters, search: URLSearchParams): ConversationFilters {
  const q = search.get('q') ?? saved.q ?? '';
  const sort = search.get('sort') === 'waiting_longest' ? 'waiting_longest' : (saved.sort ?? 'last_activity');
  return {
    ...(saved.status ? { status: saved.status } : {}),
    ...(saved.assignee ? { assignee: saved.assignee } : {}),
    ...(saved.team ? { team: saved.team } : {}),
    ...(saved.priority ? { priority: saved.priority } : {}),
    ...(saved.tag ? { tag: saved.tag } : {}),
    ...(q ? { q } : {}),
    sort,
  };
}

/** "Save view": names the current filters, for me or shared with the workspace, then opens the new view. */
export function SaveViewButton({ filters, suggestion }: { filters: ConversationFilters; suggestion: string }) {
  const { ws } = useWorkspace();
  const create = useCreateSavedView(ws);
  const [open, setOpen] = useState(false);
  const [name, setName] = useState('');
  const [shared, setShared] = useState(false);
  if (!open)
    return (
      <button
        type="button"
        className="btn btn-small"
        onClick={() => {
          setName(suggestion);
          setOpen(true);
        }}
      >
        Save view
      </button>
    );
  return (
    <form
      className="saved-view-form"
      aria-label="Save view"
      onSubmit={(e) => {
        e.preventDefault();
        if (!name.trim()) return;
        create.mutate(
          { name: name.trim(), filters: savedFiltersOf(filters), shared },
          {
            onSuccess: (view) => {
              setOpen(false);
              navigate(inboxPath(ws, `saved:${view.id}`, null));
            },
          },
        );
      }}
    >
      <input type="text" aria-label="View name" value={name} maxLength={80} onChange={(e) => setName(e.target.value)} />
      <label>
        <input type="checkbox" checked={shared} onChange={(e) => setShared(e.target.checked)} /> Share with the workspace
      </label>
      <button type="submit" className="btn btn-small btn-primary" disabled={create.isPending || !name.trim()}>
        Save
      </button>
      <button type="button" className="btn btn-small" onClick={() => setOpen(false)}>
        Cancel
      </button>
      <InlineError error={create.error} />
    </form>
  );
}

/** Rename, share or unshare, delete: for the view's owner, and an admin for a shared one. */
export function SavedViewActions({ view }: { view: SavedView }) {
  const { ws } = useWorkspace();
  const update = useUpdateSavedView(ws);
  const remove = useDeleteSavedView(ws);
  const [renaming, setRenaming] = useState(false);
  const [name, setName] = useState(view.name);
  const [confirmDelete, setConfirmDelete] = useState(false);
  if (!view.canManage) return <span className="shared-mark">Shared by a teammate</span>;
  if (renaming)
    return (
      <form
        className="saved-view-form"
        aria-label="Rename view"
        onSubmit={(e) => {
          e.preventDefault();
          if (name.trim()) update.mutate({ id: view.id, name: name.trim() }, { onSuccess: () => setRenaming(false) });
        }}
      >
        <input type="text" aria-label="New name" value={name} maxLength={80} onChange={(e) => setName(e.target.value)} />
        <button type="submit" className="btn btn-small btn-primary" disabled={update.isPending || !name.trim()}>
          Rename
        </button>
        <button type="button" className="btn btn-small" onClick={() => setRenaming(false)}>
          Cancel
        </button>
        <InlineError error={update.error} />
      </form>
    );
  return (
    <div className="saved-view-actions">
      <button
        type="button"
        className="btn btn-small"
        onClick={() => {
          setName(view.name);
          setRenaming(true);
        }}
      >
        Rename
      </button>
      <button type="button" className="btn btn-small" disabled={update.isPending} onClick={() => update.mutate({ id: view.id, shared: !view.shared })}>
        {view.shared ? 'Stop sharing' : 'Share with the workspace'}
      </button>
      {confirmDelete ? (
        <span className="inline-confirm">
          Delete “{view.name}”?{' '}
          <button type="button" className="btn btn-small btn-primary" disabled={remove.isPending} onClick={() => remove.mutate(view.id, { onSuccess: () => navigate(inboxPath(ws, 'mine', null)) })}>
            Delete
          </button>{' '}
          <button type="button" className="btn btn-small" onClick={() => setConfirmDelete(false)}>
            Cancel
          </button>
        </span>
      ) : (
        <button type="button" className="btn btn-small" onClick={() => setConfirmDelete(true)}>
          Delete…
        </button>
      )}
      <InlineError error={update.error ?? remove.error} />
    </div>
  );
}
