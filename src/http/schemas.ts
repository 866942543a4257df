import { Type, type TSchema } from 'typebox';

/** Shared building blocks for the TypeBox schemas that validate input and document the API. */
export const Uuid = Type.String({ format: 'uuid', description: 'a UUID' });
export const Timestamp = Type.String({ format: 'date-time' });
export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
export const Email = Type.String({ format: 'email', maxLength: 254 });

/** A closed object: unknown properties are rejected, never silently dropped. */
export const Strict = <T extends Record<string, TSchema>>(props: T, opts: Record<string, unknown> = {}) => Type.Object(props, { additionalProperties: false, ...opts });

export const WorkspaceParams = Strict({ workspaceId: Uuid });
export const WorkspaceItemParams = Strict({ workspaceId: Uuid, id: Uuid });

export const Problem = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    code: Type.String({ description: 'stable dotted code a client can switch on, e.g. conversations.not_found' }),
    detail: Type.Optional(Type.String()),
    errors: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String() }))),
  },
  { description: 'RFC 9457 problem details' },
);

export const PageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })),
  cursor: Type.Optional(Type.String({ maxLength: 200, pattern: '^[A-Za-z0-9_-]+$' })),
};

export const pageOf = <T extends TSchema>(item: T) => Type.Object({ items: Type.Array(item), nextCursor: Nullable(Type.String()) });

/** Standard error answers, listed in each route's OpenAPI responses. */
export const errorResponses = (...statuses: number[]) => Object.fromEntries(statuses.map((s) => [s, Problem]));
