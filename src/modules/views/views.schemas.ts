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
  cap: Type.Integer({ description: 'counts stop here; a count at the cap means "cap or more"' }),
  capped: Type.Boolean({ description: 'whether any count reached the cap' }),
  cappedKeys: Type.Array(Type.String(), { description: 'which counts reached it (team counts as byTeam.<id>)' }),
});
export type ConversationCounts = Static<typeof ConversationCounts>;
