import { defineError } from '../../lib/errors.js';

export const customerErrors = {
  notFound: defineError('customers.not_found', 404, 'No such customer'),
  // Deliberately says nothing about who holds the identity (SECURITY T3).
  identityUnavailable: defineError('customers.identity_unavailable', 409, 'That identity cannot be added to this customer'),
  identityRequired: defineError('customers.identity_required', 422, 'A customer needs an email, a phone number or an external id'),
  unknownIdentityKind: defineError('customers.unknown_identity_kind', 422, 'No channel registered that kind of identity'),
  invalidPhone: defineError('customers.invalid_phone', 422, 'The phone number is not valid'),
  invalidEmail: defineError('customers.invalid_email', 422, 'The email address is not valid'),
  identityNotFound: defineError('customers.identity_not_found', 404, 'No such identity on this customer'),
  lastIdentity: defineError('customers.last_identity', 422, 'A customer keeps at least one identity: add another before removing this one'),
};
