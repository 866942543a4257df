import { Type, type Static } from 'typebox';

const N = Type.Integer({ minimum: 0 });
export const ConversationCounts = Type.Object({
  mine: Type.Integer({ minimum: 0, description: 'open, assigned to you' }),
  unassigned: Type.Integer({ minimum: 0, description: 'open, assigned to nobody' }),
  open: N,
  pending: N,
  snoozed: N,
  resolved: N,
  closed: N,
  byTeam: Type.Record(Type.String(), N, { description: 'open conversations per team id' }),
  byPriority: Type.Record(Type.String(), N, { description: 'open and pending conversations per priority' }),
  byTag: Type.Record(Type.String(), N, { description: 'open and pending conversations per tag in use (the most used; see GET /tags)' }),
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
