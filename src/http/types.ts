import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { Deps, Scope } from '../modules/context.js';

export type App = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, TypeBoxTypeProvider>;

/**
 * The use-case context of a request inside a workspace: the server's dependencies plus who acts
 * where (set by `workspaceScope`). A use case opens its own transaction from it.
 */
export function contextOf(deps: Deps, request: FastifyRequest): Deps & Scope {
  return { ...deps, workspaceId: request.workspace.id, actor: request.workspace.actor };
}
