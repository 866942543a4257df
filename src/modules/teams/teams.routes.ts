import type { Deps } from '../context.js';
import { Type } from 'typebox';
import { Strict, Timestamp, Uuid, WorkspaceItemParams, WorkspaceParams, errorResponses } from '../../http/schemas.js';
import { contextOf, type App } from '../../http/types.js';
import { createTeam, listTeams, updateTeam } from './teams.service.js';

const tags = ['teams'];
const Team = Type.Object({ id: Uuid, name: Type.String(), memberIds: Type.Array(Uuid), createdAt: Timestamp });
const UpdateTeamBody = Strict(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    addMemberIds: Type.Optional(Type.Array(Uuid, { maxItems: 500 })),
    removeMemberIds: Type.Optional(Type.Array(Uuid, { maxItems: 500 })),
  },
  { minProperties: 1 },
);
const CreateTeamBody = Strict({ name: Type.String({ minLength: 1, maxLength: 100 }), memberIds: Type.Optional(Type.Array(Uuid, { maxItems: 500 })) });

export function teamRoutes(app: App, server: Deps): void {
  app.get(
    '/teams',
    { schema: { tags, summary: 'Teams with their members', params: WorkspaceParams, response: { 200: Type.Object({ items: Type.Array(Team) }), ...errorResponses(401, 404) } } },
    async (request) => listTeams(contextOf(server, request)),
  );
  app.post(
    '/teams',
    {
      config: { minRole: 'admin' },
      schema: { tags, summary: 'Create a team (admin)', params: WorkspaceParams, body: CreateTeamBody, response: { 201: Team, ...errorResponses(401, 403, 404, 409, 422) } },
    },
    async (request, reply) => reply.code(201).send(await createTeam(contextOf(server, request), request.body)),
  );
  app.patch(
    '/teams/:id',
    {
      config: { minRole: 'admin' },
      schema: { tags, summary: 'Rename a team, add or remove members (admin)', params: WorkspaceItemParams, body: UpdateTeamBody, response: { 200: Team, ...errorResponses(401, 403, 404, 409, 422) } },
    },
    async (request) => updateTeam(contextOf(server, request), request.params.id, request.body),
  );
}
