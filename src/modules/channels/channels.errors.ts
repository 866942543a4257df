import { defineError } from '../../lib/errors.js';

export const webhookErrors = {
  // An unknown inbox, an inbox of another kind and a channel without webhooks answer alike.
  notFound: defineError('channels.webhook_not_found', 404, 'No such webhook'),
  badSignature: defineError('channels.bad_signature', 401, 'The webhook signature is missing or wrong'),
  // A signed timestamp outside the window (WEBHOOK_TOLERANCE_MS) of the server's clock: a captured call replayed later.
  stale: defineError('channels.webhook_stale', 401, 'The webhook timestamp is missing or outside the accepted window'),
  unreadable: defineError('channels.webhook_unreadable', 400, 'The webhook body could not be read'),
};

export const deliveryErrors = {
  // A message of another conversation or workspace, an inbound message and a note answer alike.
  notFound: defineError('channels.delivery_not_found', 404, 'No such reply to send'),
  notFailed: defineError('channels.delivery_not_failed', 409, 'Only a reply whose delivery failed can be retried'),
  unavailable: defineError('channels.channel_unavailable', 409, "The inbox's channel cannot send any more"),
  notRetryable: defineError(
    'channels.delivery_not_retryable',
    409,
    'This reply was refused before it was sent (no address to send it to), and sending it again would fail the same way. Write a new reply instead.',
  ),
};
