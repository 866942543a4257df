import { defineError } from '../../lib/errors.js';

export const viewErrors = {
  /** Missing, in another workspace, or someone else's private view: the same answer. */
  notFound: defineError('views.not_found', 404, 'No such saved view'),
  /** A shared view is managed by its owner and by admins. */
  notYours: defineError('views.not_yours', 403, "Only its owner or an admin can change someone else's shared view"),
  /** Saved views belong to people: an API token has none of its own. */
  peopleOnly: defineError('views.people_only', 403, 'Saved views belong to people who sign in; an API token can only read shared views'),
};
