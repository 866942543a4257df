import { Type } from 'typebox';
import { AGENTS_AND_CLIENTS, AGENTS_ONLY, defineEvents } from '../../events/define.js';

export const customerEvents = defineEvents({
  'customer.created': {
    description: 'A customer was created, by an agent or API client, or because someone new wrote in.',
    scope: 'workspace',
    audience: AGENTS_AND_CLIENTS,
    data: Type.Object({ customerId: Type.String({ format: 'uuid', description: 'the new customer' }) }, { additionalProperties: false }),
  },
  'customer.updated': {
    description: "A customer's name, identities or custom attributes changed.",
    scope: 'workspace',
    audience: AGENTS_AND_CLIENTS,
    data: Type.Object(
      {
        customerId: Type.String({ format: 'uuid', description: 'the customer' }),
        fields: Type.Array(Type.String(), { description: 'the fields the request set, e.g. name, email, customAttributes' }),
      },
      { additionalProperties: false },
    ),
  },
  'customer.notes_updated': {
    description: "An agent changed the customer's internal note. Agents only: the note is never shown to a client viewer, and neither is its change.",
    scope: 'workspace',
    audience: AGENTS_ONLY,
    data: Type.Object({ customerId: Type.String({ format: 'uuid', description: 'the customer' }) }, { additionalProperties: false }),
  },
});
