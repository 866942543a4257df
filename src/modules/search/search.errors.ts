import { defineError } from '../../lib/errors.js';

/** The global search's refusals, each said in people's words (the app shows `detail` as it is). */
export const searchErrors = {
  invalidDate: defineError('search.invalid_date', 422, 'The date is not a date'),
  invalidRange: defineError('search.invalid_range', 422, 'The dates are the wrong way round'),
  invalidFilter: defineError('search.invalid_filter', 422, 'A filter does not name anything'),
};
