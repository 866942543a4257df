import { defineError } from '../../lib/errors.js';

export const authErrors = {
  invalidCredentials: defineError('auth.invalid_credentials', 401, 'The email or password is wrong'),
  sessionExpired: defineError('auth.session_expired', 401, 'Your session has ended; sign in again'),
  reauthenticationRequired: defineError('auth.reauthentication_required', 401, 'Confirm with your password (signed in as a person) to do this'),
  tooManyAttempts: defineError('auth.too_many_attempts', 429, 'Too many sign-in attempts; wait and try again'),
  weakPassword: defineError('auth.weak_password', 422, 'Choose a stronger password'),
  workspaceCreationNotAllowed: defineError('workspaces.creation_not_allowed', 403, 'Only an instance admin can create workspaces here'),
  mailNotConfigured: defineError('auth.mail_not_configured', 503, 'This server cannot send email, so passwords cannot be reset by email'),
  invalidResetLink: defineError('auth.invalid_reset_link', 400, 'This password reset link does not work'),
  wrongPassword: defineError('auth.wrong_password', 403, 'Your current password is not right'),
  samePassword: defineError('auth.same_password', 422, 'The new password is the same as the current one'),
  alertNotFound: defineError('auth.alert_not_found', 404, 'No such security alert'),
};
