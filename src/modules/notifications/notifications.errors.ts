import { defineError } from '../../lib/errors.js';

export const notificationErrors = {
  notFound: defineError('notifications.not_found', 404, 'No such notification'),
  /** Notifications are a person's: an API token is told nothing and has no preferences. */
  peopleOnly: defineError('notifications.people_only', 403, 'Notifications belong to people who sign in; an API token has none'),
};
