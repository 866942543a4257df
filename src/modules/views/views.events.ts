import { Type } from 'typebox';
import { AGENTS_ONLY, defineEvents } from '../../events/define.js';

/**
 * Saved view changes are events so every open agent app refreshes its views (realtime). The payload
 * names no view's name or filters: a private view's owner reads it through the API, nobody else can.
 * A view shared before or after the change is announced to every agent (`saved_view.*`); a private
 * one only to its owner (`saved_view.private_*`), as the API treats someone else's private view as missing.
 */
const SavedViewRef = Type.Object(
  {
    savedViewId: Type.String({ format: 'uuid', description: 'the saved view' }),
    ownerId: Type.String({ format: 'uuid', description: 'the member it belongs to' }),
    shared: Type.Boolean({ description: 'whether the workspace sees it' }),
  },
  { additionalProperties: false },
);

/** A private view is its owner's alone: its events reach that member's own sockets, nobody else's (not even that it exists). */
const OWNER_ONLY = { clients: false, customer: false, recipient: 'ownerId' } as const;

export const viewEvents = defineEvents({
  'saved_view.created': { description: 'A member saved a view (filters with a name), for themselves or shared.', scope: 'workspace', audience: AGENTS_ONLY, data: SavedViewRef },
  'saved_view.updated': { description: 'A saved view was renamed, refiltered, shared or unshared.', scope: 'workspace', audience: AGENTS_ONLY, data: SavedViewRef },
  'saved_view.deleted': { description: 'A saved view was deleted.', scope: 'workspace', audience: AGENTS_ONLY, data: SavedViewRef },
  'saved_view.private_created': { description: 'A member saved a private view (for themselves).', scope: 'workspace', audience: OWNER_ONLY, data: SavedViewRef },
  'saved_view.private_updated': {
    description: 'A private view (private before and after) was renamed or refiltered.',
    scope: 'workspace',
    audience: OWNER_ONLY,
    data: SavedViewRef,
  },
  'saved_view.private_deleted': { description: 'A private view was deleted.', scope: 'workspace', audience: OWNER_ONLY, data: SavedViewRef },
});
