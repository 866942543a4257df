import { defineError } from '../lib/errors.js';

/**
 * Recording an event that is not in the catalogue, or whose payload does not fit its schema, is a bug
 * in the code that records it: a 500, and the transaction of the change rolls back with it (the change
 * and its announcement commit together or not at all).
 */
export const eventErrors = {
  unknownType: defineError('events.unknown_type', 500, 'An event of an unknown type was recorded'),
  invalidPayload: defineError('events.invalid_payload', 500, 'An event was recorded with a payload that does not fit its type'),
};
