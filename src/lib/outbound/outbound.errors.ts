import { defineError } from '../errors.js';

/** Refusals of the outbound-connection guard (SECURITY M4, W4). */
export const outboundErrors = {
  forbiddenAddress: defineError('outbound.forbidden_address', 422, 'The host is a loopback, private, link-local or reserved address, which Rapport does not connect to'),
  invalidHost: defineError('outbound.invalid_host', 422, 'The host is not a valid host name or IP address'),
  unresolvable: defineError('outbound.unresolvable', 422, 'The host name could not be resolved'),
};
