import { defineError } from '../../lib/errors.js';

export const macroErrors = {
  notFound: defineError('macros.not_found', 404, 'No such macro'),
  nameTaken: defineError('macros.name_taken', 409, 'A macro with that name exists'),
  emptyBody: defineError('macros.empty_body', 422, 'The macro renders to an empty message for this conversation'),
  unknownPlaceholder: defineError('macros.unknown_placeholder', 422, 'The body names a placeholder Rapport does not know'),
};
