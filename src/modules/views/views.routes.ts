import { WorkspaceParams, errorResponses } from '../../http/schemas.js';
import { workspaceDeps, type App, type ServerDeps } from '../../http/types.js';
import { ConversationCounts } from './views.schemas.js';
import { conversationCounts } from './views.service.js';

export function viewRoutes(app: App, server: ServerDeps): void {
  app.get('/conversations/counts', {
    schema: {
      tags: ['conversations'], summary: 'Inbox counts for the caller (Mine, Unassigned, by status, by team), capped',
      params: WorkspaceParams, response: { 200: ConversationCounts, ...errorResponses(401, 404) },
    },
  }, async (request) => conversationCounts({ ...workspaceDeps(server, request), userId: request.workspace.userId }));
}
