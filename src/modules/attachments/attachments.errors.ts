import { defineError } from '../../lib/errors.js';

export const attachmentErrors = {
  /** An unknown id, another workspace's, another person's unsent upload, or one already attached: all answer alike (F3). */
  notFound: defineError('attachments.not_found', 404, 'No such attachment'),
  fileTooLarge: defineError('attachments.file_too_large', 413, 'The file is larger than uploads allow'),
  invalidName: defineError('attachments.invalid_name', 422, 'The file name is not valid'),
  tooMany: defineError('attachments.too_many', 422, 'Too many files for one message'),
  messageTooLarge: defineError('attachments.message_too_large', 422, 'The files together are larger than one message allows'),
  tooManyPending: defineError('attachments.too_many_pending', 429, 'Too many uploads not sent yet; send or let them expire first'),
  messageNotFound: defineError('messages.not_found', 404, 'No such message'),
};
