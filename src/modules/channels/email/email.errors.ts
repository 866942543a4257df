import { defineError } from '../../../lib/errors.js';

export const emailErrors = {
  invalidSettings: defineError('inboxes.invalid_settings', 422, 'The inbox settings are not valid for this channel'),
  /** SECURITY E14: an address a mail system could read two ways is refused, never "fixed". */
  ambiguousRecipient: defineError('email.ambiguous_recipient', 422, 'The recipient address is ambiguous and was refused'),
  noRecipient: defineError('email.no_recipient', 422, 'The conversation has no customer email address to reply to'),
  notEmailConversation: defineError('email.not_email_conversation', 422, 'The conversation is not in an email inbox'),
  attachmentNotFound: defineError('email.attachment_not_found', 404, 'No such attachment'),
  rawNotFound: defineError('email.raw_not_found', 404, 'No such email'),
  conversationNotFound: defineError('conversations.not_found', 404, 'No such conversation'),
};
