import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';

// ajv-formats is CommonJS with a default export property.
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule) as unknown as (ajv: Ajv) => Ajv;
import type { FastifySchemaCompiler } from 'fastify';

/**
 * Two validators. Bodies are checked as sent: no type coercion (a number where a string belongs is
 * an error, not a conversion), no removal of unknown properties (they are rejected). Query strings
 * and path params arrive as text, so they are coerced to the declared scalar types.
 */
function makeAjv(coerce: boolean): Ajv {
  const ajv = new Ajv({
    coerceTypes: coerce ? 'array' : false,
    useDefaults: true,
    removeAdditional: false,
    allErrors: false,
    strict: false,
    // Each error keeps its failing schema, for the schema's own `errorMessage` (validation-messages.ts).
    verbose: true,
  });
  addFormats(ajv);
  return ajv;
}

const bodyAjv = makeAjv(false);
const paramAjv = makeAjv(true);

export const validatorCompiler: FastifySchemaCompiler<any> = ({ schema, httpPart }) => {
  const ajv = httpPart === 'body' ? bodyAjv : paramAjv;
  const validate = ajv.compile(schema as object);
  return (data: unknown) => {
    if (validate(data)) return { value: data };
    const error = new Error('validation failed') as Error & { validation: unknown };
    error.validation = validate.errors;
    return { error };
  };
};
