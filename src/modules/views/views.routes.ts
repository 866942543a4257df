import type { Deps } from '../context.js';
import { WorkspaceParams, errorResponses } from '../../http/schemas.js';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { contextOf, type App } from '../../http/types.js';
import { ConversationCounts, CountsQuery, CreateSavedViewBody, SavedView, SavedViewList, SavedViewParams, TagList, UpdateSavedViewBody } from './views.schemas.js';
import { conversationCounts, createSavedView, deleteSavedView, listSavedViews, listTags, updateSavedView, type ViewsContext } from './views.service.js';

export function viewRoutes(app: App, server: Deps): void {
  app.get(
    '/conversations/counts',
    {
      schema: {
        tags: ['conversations'],
        operationId: 'getConversationCounts',
        summary: 'Inbox counts for the caller (Mine, Unassigned, by status, team, priority and tag), capped',
        description:
          'Each count is the number of conversations its view lists (GET /conversations with the same filters), stopping at `cap`. ' +
          "`status` is the views' status filter: `?status=pending` counts the pending conversations of Mine, Unassigned, each team, priority and tag.",
        params: WorkspaceParams,
        querystring: CountsQuery,
        response: { 200: ConversationCounts, ...errorResponses(401, 404) },
      },
    },
    async (request) => conversationCounts({ ...contextOf(server, request), userId: request.workspace.userId }, undefined, request.query.status ?? null),
  );

  app.get(
    '/tags',
    {
      schema: {
        tags: ['conversations'],
        summary: 'Tags in use in the workspace, with how many open or pending conversations carry each',
        params: WorkspaceParams,
        response: { 200: TagList, ...errorResponses(401, 404) },
      },
    },
    async (request) => listTags(contextOf(server, request)),
  );

  // Saved views are for members who work conversations (agent and up); API tokens read the shared ones.
  const config = { minRole: 'agent' as const };
  const tagsOf = ['views'];
  const ctx = (request: FastifyRequest): ViewsContext => ({ ...contextOf(server, request), role: request.workspace.role });

  app.get(
    '/saved-views',
    {
      config,
      schema: {
        tags: tagsOf,
        operationId: 'listSavedViews',
        summary: 'My saved views and the shared ones',
        description: 'Your own views (private or shared) and the views others shared with the workspace, by name. An API token lists the shared ones.',
        params: WorkspaceParams,
        response: { 200: SavedViewList, ...errorResponses(401, 403, 404) },
      },
    },
    async (request) => listSavedViews(ctx(request)),
  );

  app.post(
    '/saved-views',
    {
      config,
      schema: {
        tags: tagsOf,
        operationId: 'createSavedView',
        summary: 'Save the current filters as a named view, for me or shared with the workspace',
        description: 'The filters are the inbox list\'s (GET /conversations). `assignee: "me"` means whoever opens the view. Signed-in members only (403 views.people_only for an API token).',
        params: WorkspaceParams,
        body: CreateSavedViewBody,
        response: { 201: SavedView, ...errorResponses(401, 403, 404, 422) },
      },
    },
    async (request, reply) => reply.code(201).send(await createSavedView(ctx(request), request.body)),
  );

  app.patch(
    '/saved-views/:id',
    {
      config,
      schema: {
        tags: tagsOf,
        operationId: 'updateSavedView',
        summary: 'Rename, refilter, share or unshare a saved view',
        description: "Your own views; a shared view of someone else only as an admin (403 views.not_yours otherwise). Someone else's private view answers 404 like a missing one.",
        params: SavedViewParams,
        body: UpdateSavedViewBody,
        response: { 200: SavedView, ...errorResponses(401, 403, 404, 422) },
      },
    },
    async (request) => updateSavedView(ctx(request), request.params.id, request.body),
  );

  app.delete(
    '/saved-views/:id',
    {
      config,
      schema: {
        tags: tagsOf,
        operationId: 'deleteSavedView',
        summary: 'Delete a saved view',
        description: 'Your own views; a shared view of someone else only as an admin. The conversations it listed are untouched.',
        params: SavedViewParams,
        response: { 204: Type.Null({ description: 'deleted' }), ...errorResponses(401, 403, 404) },
      },
    },
    async (request, reply) => {
      await deleteSavedView(ctx(request), request.params.id);
      return reply.code(204).send(null);
    },
  );
}
