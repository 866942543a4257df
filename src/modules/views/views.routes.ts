import type { Deps } from '../context.js';
import { WorkspaceParams, errorResponses } from '../../http/schemas.js';
import { contextOf, type App } from '../../http/types.js';
import { ConversationCounts, CountsQuery, TagList } from './views.schemas.js';
import { conversationCounts, listTags } from './views.service.js';

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
}
