import { Type } from 'typebox';
import { AGENTS_ONLY, defineEvents } from '../../events/define.js';

/**
 * Saved view changes are events so every open agent app refreshes its views (realtime). The payload
 * names no view's name or filters: a private view's owner reads it through the API, nobody else can.
 */
const SavedViewRef = Type.Object(
  {
    savedViewId: Type.String({ format: 'uuid', description: 'the saved view' }),
    ownerId: Type.String({ format: 'uuid', description: 'the member it belongs to' }),
    shared: Type.Boolean({ description: 'whether the workspace sees it' }),
  },
  { additionalProperties: false },
);

export const viewEvents = defineEvents({
  'saved_view.created': { description: 'A member saved a view (filters with a name), for themselves or shared.', scope: 'workspace', audience: AGENTS_ONLY, data: SavedViewRef },
  'saved_view.updated': { description: 'A saved view was renamed, refiltered, shared or unshared.', scope: 'workspace', audience: AGENTS_ONLY, data: SavedViewRef },
  'saved_view.deleted': { description: 'A saved view was deleted.', scope: 'workspace', audience: AGENTS_ONLY, data: SavedViewRef },
});
