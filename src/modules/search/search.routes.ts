import { visibilityOf } from '../auth/roles.js';
import type { Deps } from '../context.js';
import { WorkspaceParams, errorResponses } from '../../http/schemas.js';
import { contextOf, type App } from '../../http/types.js';
import { SearchQuery, SearchResults } from './search.schemas.js';
import { search } from './search.service.js';

export function searchRoutes(app: App, server: Deps): void {
  app.get(
    '/search',
    {
      schema: {
        tags: ['search'],
        operationId: 'search',
        summary: 'Search everything: conversations in every status and customers, grouped by kind',
        description:
          'Finds conversations by words in the subject or messages, the customer’s name, email or phone, or `#number`, in every status ' +
          '(open, pending, snoozed, resolved, closed) unless `status` narrows it; and the customers the text names. ' +
          'Filters (`status`, `inboxId`, `teamId`, `assigneeId`, `tag`, `from`/`to` on last activity) narrow the conversations. ' +
          'Each conversation says why it matched (`match`), with an excerpt of the message that holds the words. ' +
          'A request reads a bounded number of rows: the conversations page may be short yet carry a `nextCursor` (pass it as `cursor` to search further). ' +
          'A client viewer never finds, nor sees quoted, the words of an internal note. ' +
          'Paced per user or API token like every search (a next page costs a quarter): past it, 429 `search.rate_limited` with Retry-After. ' +
          'A bad date answers 422 `search.invalid_date`, a filter that is not an id 422 `search.invalid_filter`.',
        params: WorkspaceParams,
        querystring: SearchQuery,
        response: { 200: SearchResults, ...errorResponses(401, 404, 422, 429) },
      },
    },
    async (request) => search({ ...contextOf(server, request), userId: request.workspace.userId, searchLimiter: server.searchLimiter }, request.query, visibilityOf(request.workspace.role)),
  );
}
