import { Type } from 'typebox';
import { AGENTS_AND_CLIENTS, defineEvents } from '../../events/define.js';

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
});
