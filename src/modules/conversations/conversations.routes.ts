import type { Deps } from '../context.js';
import { Strict, Uuid, WorkspaceParams, errorResponses } from '../../http/schemas.js';
import { contextOf, type App } from '../../http/types.js';
import {
  BulkActionBody,
  BulkResult,
  Conversation,
  ConversationPage,
  CreateConversationBody,
  CreateMessageBody,
  EventPage,
  EventsQuery,
  ListConversationsQuery,
  Message,
  MessagePage,
  MessagesQuery,
  ReplyCollisionProblem,
  UpdateConversationBody,
} from './conversations.schemas.js';
import { visibilityOf } from '../auth/roles.js';
import { addMessage, bulkUpdateConversations, createConversation, getConversation, listConversations, listEvents, listMessages, updateConversation } from './conversations.service.js';

const tags = ['conversations'];
export const ConversationParams = Strict({ workspaceId: Uuid, id: Uuid });

export function conversationRoutes(app: App, server: Deps): void {
  app.post(
    '/conversations',
    {
      schema: {
        tags,
        summary: 'Open a conversation with its first inbound message (creates or finds the customer)',
        params: WorkspaceParams,
        body: CreateConversationBody,
        response: { 201: Conversation, ...errorResponses(401, 403, 404, 409, 422) },
      },
    },
    async (request, reply) => reply.code(201).send(await createConversation(contextOf(server, request), request.body)),
  );

  app.get(
    '/conversations',
    {
      schema: {
        tags,
        summary: 'The inbox: conversations by last activity (or waiting longest), filtered, cursor-paged',
        description:
          'With `q`, a search: each request reads a bounded number of rows, so a page may hold fewer than `limit` ' +
          'conversations and still carry a `nextCursor` (follow it to search further). Searches are paced per user or API token ' +
          '(SEARCH_RATE_PER_MINUTE, SEARCH_RATE_BURST): past that, 429 `search.rate_limited` with Retry-After.',
        params: WorkspaceParams,
        querystring: ListConversationsQuery,
        response: { 200: ConversationPage, ...errorResponses(401, 404, 422, 429) },
      },
    },
    async (request) => listConversations({ ...contextOf(server, request), userId: request.workspace.userId, searchLimiter: server.searchLimiter }, request.query, visibilityOf(request.workspace.role)),
  );

  app.get(
    '/conversations/:id',
    {
      schema: { tags, summary: 'One conversation', params: ConversationParams, response: { 200: Conversation, ...errorResponses(401, 404, 422) } },
    },
    async (request) => getConversation(contextOf(server, request), request.params.id, visibilityOf(request.workspace.role)),
  );

  app.patch(
    '/conversations/:id',
    {
      schema: {
        tags,
        summary: 'Change status (snooze with snoozedUntil), priority, assignee, team, tags or subject',
        params: ConversationParams,
        body: UpdateConversationBody,
        response: { 200: Conversation, ...errorResponses(401, 403, 404, 422) },
      },
    },
    async (request) => updateConversation(contextOf(server, request), request.params.id, request.body),
  );

  app.post(
    '/conversations/bulk',
    {
      schema: {
        tags,
        operationId: 'bulkUpdateConversations',
        summary: 'One action on many conversations: assign, status, priority, tag, untag, snooze or close',
        description:
          'Up to 100 ids, in one transaction, each changed as PATCH /conversations/{id} would (its own timeline events, the same checks). ' +
          'The answer has one result per id: a conversation that does not exist, or is in another workspace, is `ok: false` with `conversations.not_found` ' +
          'and the others still apply (so do other refusals of one conversation, such as `conversations.too_many_tags`). ' +
          'A value wrong for the whole action (an assignee who is not an agent here, a snooze time in the past) answers 422 and changes nothing; ' +
          'any other failure rolls the whole batch back.',
        params: WorkspaceParams,
        body: BulkActionBody,
        response: { 200: BulkResult, ...errorResponses(401, 403, 404, 422) },
      },
    },
    async (request) => bulkUpdateConversations(contextOf(server, request), request.body),
  );

  app.post(
    '/conversations/:id/messages',
    {
      schema: {
        tags,
        operationId: 'addMessage',
        summary: 'Reply to the customer or add an internal note',
        description:
          'A reply may carry `lastSeenMessageId`, the newest message the agent saw when they began writing: if the customer or ' +
          'another agent added a public message after it, nothing is sent and the answer is 409 `conversations.reply_collision` ' +
          'with those messages; send again with `sendAnyway: true` (or with the newest as `lastSeenMessageId`) once they were read. ' +
          'An id that is not a message of this conversation answers 422 `conversations.last_seen_not_found`. Notes never collide.',
        params: ConversationParams,
        body: CreateMessageBody,
        response: { 201: Message, ...errorResponses(401, 403, 404, 422), 409: ReplyCollisionProblem },
      },
    },
    async (request, reply) => reply.code(201).send(await addMessage(contextOf(server, request), request.params.id, request.body)),
  );

  app.get(
    '/conversations/:id/messages',
    {
      schema: {
        tags,
        summary: 'The thread, oldest first (order=desc for newest first)',
        params: ConversationParams,
        querystring: MessagesQuery,
        response: { 200: MessagePage, ...errorResponses(401, 404, 422) },
      },
    },
    async (request) => listMessages(contextOf(server, request), request.params.id, request.query, visibilityOf(request.workspace.role)),
  );

  app.get(
    '/conversations/:id/events',
    {
      schema: { tags, summary: 'The timeline: every change, in order', params: ConversationParams, querystring: EventsQuery, response: { 200: EventPage, ...errorResponses(401, 404, 422) } },
    },
    async (request) => listEvents(contextOf(server, request), request.params.id, request.query, visibilityOf(request.workspace.role)),
  );
}
