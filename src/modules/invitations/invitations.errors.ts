import { defineError } from '../../lib/errors.js';

export const invitationErrors = {
  notFound: defineError('invitations.not_found', 404, 'No such pending invitation'),
  // One answer for unknown, used, revoked and expired tokens alike (SECURITY A4).
  invalidToken: defineError('invitations.invalid_token', 400, 'This invitation link is not valid; ask for a new one'),
  signInRequired: defineError('invitations.sign_in_required', 401, 'An account with this email exists: sign in as it to accept'),
  wrongAccount: defineError('invitations.wrong_account', 403, 'This invitation is for another email address'),
  accountDetailsRequired: defineError('invitations.account_details_required', 422, 'Give your name and a password to create your account'),
};
