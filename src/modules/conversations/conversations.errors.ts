import { defineError } from '../../lib/errors.js';

export const conversationErrors = {
  notFound: defineError('conversations.not_found', 404, 'No such conversation'),
  inboxNotFound: defineError('inboxes.not_found', 404, 'No such inbox'),
  noDefaultInbox: defineError('inboxes.none_available', 422, 'The workspace has no API inbox; pass inboxId'),
  assigneeNotFound: defineError('conversations.assignee_not_found', 422, 'The assignee is not an agent of this workspace'),
  teamNotFound: defineError('teams.not_found', 422, 'No such team in this workspace'),
  searchRateLimited: defineError('search.rate_limited', 429, 'Too many searches; try again shortly'),
  tooManyTags: defineError('conversations.too_many_tags', 422, 'A conversation holds at most 20 tags'),
  customerNotFound: defineError('customers.not_found', 404, 'No such customer'),
  inboxCannotEmail: defineError('conversations.inbox_cannot_email', 422, 'This inbox cannot send email: choose an email inbox'),
  notCustomersAddress: defineError('conversations.not_customers_address', 422, "The address is not one of this customer's email addresses"),
  replyCollision: defineError('conversations.reply_collision', 409, 'Someone else replied since you opened the conversation'),
  lastSeenNotFound: defineError('conversations.last_seen_not_found', 422, 'lastSeenMessageId is not a message of this conversation'),
  snoozeNeedsTime: defineError('conversations.snooze_needs_until', 422, 'Snoozing needs snoozedUntil, a time in the future'),
};
