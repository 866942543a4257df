import { Type, type Static } from 'typebox';
import { Strict, Timestamp, Uuid } from '../../http/schemas.js';
import { PrioritySchema, StatusSchema, Tag } from '../conversations/conversations.schemas.js';

/**
 * A view's status filter (the list header): one status, or `active` (open and pending). Each names the
 * statuses the list asks for (`status=` on GET /conversations) and the counts count.
 */
export const VIEW_STATUS_FILTERS = {
  open: ['open'],
  pending: ['pending'],
  snoozed: ['snoozed'],
  resolved: ['resolved'],
  closed: ['closed'],
  active: ['open', 'pending'],
} as const;
export type ViewStatusFilter = keyof typeof VIEW_STATUS_FILTERS;

export const CountsQuery = Strict({
  status: Type.Optional(
    Type.Enum(Object.keys(VIEW_STATUS_FILTERS) as ViewStatusFilter[], {
      description:
        'the status filter of the views: Mine, Unassigned, each team, priority and tag count conversations of this status (`active`: open and pending). ' +
        'Without it, Mine, Unassigned and teams count open conversations, priorities and tags open and pending ones.',
    }),
  ),
});

const N = Type.Integer({ minimum: 0 });
export const ConversationCounts = Type.Object({
  status: Type.Union([Type.Enum(Object.keys(VIEW_STATUS_FILTERS) as ViewStatusFilter[]), Type.Null()], { description: 'the status filter the view counts used (null: each view its default)' }),
  mine: Type.Integer({ minimum: 0, description: 'assigned to you (open, or the status filter)' }),
  unassigned: Type.Integer({ minimum: 0, description: 'assigned to nobody (open, or the status filter)' }),
  open: N,
  pending: N,
  snoozed: N,
  resolved: N,
  closed: N,
  byTeam: Type.Record(Type.String(), N, { description: 'conversations per team id (open, or the status filter)' }),
  byPriority: Type.Record(Type.String(), N, { description: 'conversations per priority (open and pending, or the status filter)' }),
  byTag: Type.Record(Type.String(), N, { description: 'conversations per tag in use (open and pending, or the status filter; the most used; see GET /tags)' }),
  cap: Type.Integer({ description: 'counts stop here; a count at the cap means "cap or more"' }),
  capped: Type.Boolean({ description: 'whether any count reached the cap' }),
  cappedKeys: Type.Array(Type.String(), { description: 'which counts reached it (byTeam.<id>, byPriority.<p>; byTag when the tag counts are lower bounds)' }),
});
export type ConversationCounts = Static<typeof ConversationCounts>;

export const TagList = Type.Object({
  items: Type.Array(
    Type.Object({
      tag: Type.String(),
      count: Type.Integer({ minimum: 0, description: 'open and pending conversations carrying it' }),
    }),
    { description: 'tags in use, most used first' },
  ),
  cap: Type.Integer({ description: 'how many conversations were read to count' }),
  capped: Type.Boolean({ description: 'more open conversations exist than were read: counts are lower bounds' }),
});
export type TagList = Static<typeof TagList>;

/**
 * A saved view's filters: the list API's own (GET /conversations), so a saved view opens as the list
 * it was saved from. `assignee: "me"` is whoever opens it.
 */
export const SavedViewFilters = Strict(
  {
    status: Type.Optional(Type.Array(StatusSchema, { minItems: 1, maxItems: 5, uniqueItems: true, description: 'one or more statuses; none: every status' })),
    assignee: Type.Optional(Type.String({ pattern: '^(me|none|[0-9a-fA-F-]{36})$', description: '"me" (whoever opens the view), "none" or a user id' })),
    team: Type.Optional(Type.String({ pattern: '^(none|[0-9a-fA-F-]{36})$', description: '"none" or a team id' })),
    inbox: Type.Optional(Uuid),
    priority: Type.Optional(PrioritySchema),
    tag: Type.Optional(Tag),
    q: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'words, #number or an email, as the list searches' })),
    sort: Type.Optional(Type.Union([Type.Literal('last_activity'), Type.Literal('waiting_longest')])),
  },
  { title: 'SavedViewFilters', examples: [{ assignee: 'me', status: ['pending'], sort: 'waiting_longest' }] },
);
export type SavedViewFilters = Static<typeof SavedViewFilters>;

const ViewName = Type.String({ minLength: 1, maxLength: 80, pattern: '\\S', description: 'what the nav shows' });

export const SavedView = Type.Object(
  {
    id: Uuid,
    name: Type.String(),
    filters: SavedViewFilters,
    shared: Type.Boolean({ description: 'true: every member of the workspace sees it; false: only its owner' }),
    ownerId: Uuid,
    mine: Type.Boolean({ description: 'whether you own it' }),
    canManage: Type.Boolean({ description: 'whether you may rename, refilter, share or delete it (its owner; an admin for a shared view)' }),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  {
    title: 'SavedView',
    examples: [
      {
        id: '3f0e8a52-6a1d-4a8e-9c57-2b1d6f0e4c21',
        name: 'My pending',
        filters: { assignee: 'me', status: ['pending'] },
        shared: false,
        ownerId: '5b1f0c5e-9a27-4f7b-b6a1-2c3d4e5f6a7b',
        mine: true,
        canManage: true,
        createdAt: '2026-03-01T09:00:00.000Z',
        updatedAt: '2026-03-01T09:00:00.000Z',
      },
    ],
  },
);
export type SavedView = Static<typeof SavedView>;

export const SavedViewList = Type.Object({ items: Type.Array(SavedView, { description: 'your views and the shared ones, by name' }) }, { title: 'SavedViewList', examples: [{ items: [] }] });

export const CreateSavedViewBody = Strict(
  { name: ViewName, filters: SavedViewFilters, shared: Type.Optional(Type.Boolean({ default: false })) },
  { title: 'CreateSavedView', examples: [{ name: 'My pending', filters: { assignee: 'me', status: ['pending'] }, shared: false }] },
);
export type CreateSavedViewInput = Static<typeof CreateSavedViewBody>;

export const UpdateSavedViewBody = Strict(
  { name: Type.Optional(ViewName), filters: Type.Optional(SavedViewFilters), shared: Type.Optional(Type.Boolean()) },
  { title: 'UpdateSavedView', minProperties: 1, examples: [{ name: 'Pending, mine', shared: true }] },
);
export type UpdateSavedViewInput = Static<typeof UpdateSavedViewBody>;

export const SavedViewParams = Strict({ workspaceId: Uuid, id: Uuid });
