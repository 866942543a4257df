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
  /** Another inbox of the same workspace lists it; other workspaces' claims are never revealed (SECURITY H2, T3). */
  addressTaken: defineError('email.address_taken', 409, 'An address or domain of this inbox is already used by another inbox of this workspace'),
  /** SECURITY H2: a catch-all of gmail.com would take mail meant for millions of people. */
  publicDomainCatchAll: defineError('email.public_domain_catch_all', 422, 'A public mail domain cannot be a catch-all domain'),
  claimNotFound: defineError('email.claim_not_found', 404, 'This inbox does not list that address or domain'),
  alreadyVerified: defineError('email.already_verified', 409, 'This address or domain is already verified for this inbox'),
  confirmationUnavailable: defineError('email.confirmation_unavailable', 422, 'Confirmation emails are not set up on this server; prove the domain with a DNS record instead'),
  confirmationThrottled: defineError('email.confirmation_throttled', 429, 'Too many confirmation emails for this address; try again later'),
  confirmationNotSent: defineError('email.confirmation_not_sent', 502, 'The confirmation email could not be sent'),
  /** An unknown, used, expired or replaced link: one answer for all. */
  confirmationNotFound: defineError('email.confirmation_not_found', 404, 'This confirmation link is not valid (it may have expired or been used)'),
  dnsRecordNotFound: defineError('email.dns_record_not_found', 422, 'The DNS verification record was not found'),
  rawNotFound: defineError('email.raw_not_found', 404, 'No such email'),
  conversationNotFound: defineError('conversations.not_found', 404, 'No such conversation'),
  // "Send a test" and "Test connection" of the inbox settings (admin): what went wrong, in people's words.
  noSmtpSettings: defineError('email.no_smtp_settings', 422, 'This inbox has no SMTP server for replies yet'),
  noImapSettings: defineError('email.no_imap_settings', 422, 'This inbox does not fetch mail over IMAP'),
  serverUnreachable: defineError('email.server_unreachable', 422, 'Rapport could not reach the mail server: check the host name and port'),
  authFailed: defineError('email.auth_failed', 422, 'The mail server refused the user name or password'),
  tlsFailed: defineError('email.tls_failed', 422, 'The secure connection (TLS) to the mail server failed: check the security setting and the server’s certificate'),
  testRejected: defineError('email.test_rejected', 422, 'The mail server refused the test email'),
  testsThrottled: defineError('email.tests_throttled', 429, 'Too many tests in a short time'),
  mailboxMissing: defineError('email.mailbox_missing', 422, 'Signed in, but the mail server has no folder by that name'),
};
