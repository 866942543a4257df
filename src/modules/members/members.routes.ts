import type { Deps } from '../context.js';
import { Type } from 'typebox';
import { Strict, Uuid, WorkspaceItemParams, errorResponses } from '../../http/schemas.js';
import { contextOf, type App } from '../../http/types.js';
import { Member, RoleSchema } from '../workspaces/workspaces.schemas.js';
import { changeRole, removeMember } from './members.service.js';

const tags = ['users'];
export const MemberParams = WorkspaceItemParams;
export const ChangeRoleBody = Strict({ role: RoleSchema });

/**
 * Role changes and removal (admin). The principal cache is told at once on this instance; other
 * instances see the change within the cache's few seconds, and open sockets close at their next heartbeat.
 */
export function memberRoutes(app: App, server: Deps): void {
  app.patch(
    '/users/:id',
    {
      config: { minRole: 'admin' },
      schema: {
        tags,
        summary: "Change a member's role (admin; only an owner grants or changes owner; the last owner stays)",
        params: MemberParams,
        body: ChangeRoleBody,
        response: { 200: Member, ...errorResponses(401, 403, 404, 409, 422) },
      },
    },
    async (request) => {
      const member = await changeRole(contextOf(server, request), request.workspace.role, request.params.id, request.body.role);
      server.resolver.forget(`m:${request.workspace.id}:${request.params.id}`);
      server.resolver.forget('t:'); // their tokens' effective role follows theirs
      return member;
    },
  );

  app.delete(
    '/users/:id',
    {
      config: { minRole: 'admin' },
      schema: {
        tags,
        summary: 'Remove a member from the workspace (admin); the account stays',
        params: Type.Object({ workspaceId: Uuid, id: Uuid }),
        response: { 204: Type.Null(), ...errorResponses(401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      await removeMember(contextOf(server, request), request.workspace.role, request.params.id);
      server.resolver.forget(`m:${request.workspace.id}:${request.params.id}`);
      server.resolver.forget('t:'); // their tokens are revoked
      return reply.code(204).send(null);
    },
  );
}
