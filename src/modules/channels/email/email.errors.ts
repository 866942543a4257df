import { defineError } from '../../../lib/errors.js';

export const emailErrors = {
  invalidSettings: defineError('inboxes.invalid_settings', 422, 'The inbox settings are not valid for this channel'),
  /** SECURITY E14: an address a mail system could read two ways is refused, never "fixed". */
  ambiguousRecipient: defineError('email.ambiguous_recipient', 422, 'The recipient address is ambiguous and was refused'),
  noRecipient: defineError('email.no_recipient', 422, 'The conversation has no customer email address to reply to'),
  notEmailConversation: defineError('email.not_email_conversation', 422, 'The conversation is not in an email inbox'),
  /** An unknown id, another workspace's, another person's, or one already sent: all answer alike (F3). */
  attachmentNotFound: defineError('email.attachment_not_found', 404, 'No such attachment'),
  uploadTooLarge: defineError('email.upload_too_large', 413, 'The file is larger than uploads allow'),
  invalidUploadName: defineError('email.invalid_upload_name', 422, 'The file name is not valid'),
  /** Says nothing about who uses the address (SECURITY T3). */
  addressTaken: defineError('email.address_taken', 409, 'An address or domain of this inbox is already used by another inbox'),
  rawNotFound: defineError('email.raw_not_found', 404, 'No such email'),
  conversationNotFound: defineError('conversations.not_found', 404, 'No such conversation'),
};
