import { defineError } from '../../lib/errors.js';

export const webhookErrors = {
  // An unknown inbox, an inbox of another kind and a channel without webhooks answer alike.
  notFound: defineError('channels.webhook_not_found', 404, 'No such webhook'),
  badSignature: defineError('channels.bad_signature', 401, 'The webhook signature is missing or wrong'),
  unreadable: defineError('channels.webhook_unreadable', 400, 'The webhook body could not be read'),
};
