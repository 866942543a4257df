import { Type, type Static } from 'typebox';
import { Strict } from '../../http/schemas.js';

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
