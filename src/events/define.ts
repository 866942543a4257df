import type { TSchema } from 'typebox';

/**
 * One event in the catalogue: what happened, in the past tense, and the payload it always carries.
 * `scope` says whether the event belongs to a conversation: recording a conversation event without a
 * conversationId is refused, so timelines, realtime and ordered subscribers can rely on it.
 */
export interface EventDefinition<S extends TSchema = TSchema> {
  description: string;
  scope: 'conversation' | 'workspace';
  data: S;
}

/**
 * Declares a module's events (in its `<domain>.events.ts`). The `const` parameter keeps the literal
 * keys, so `recordEvents` and subscribers are typed by them.
 */
export function defineEvents<const D extends Record<string, EventDefinition>>(defs: D): D {
  for (const type of Object.keys(defs)) {
    // `domain.past_tense` is what clients filter on (EventsQuery.exclude accepts only this shape).
    if (!/^[a-z_]+\.[a-z_]+$/.test(type)) throw new Error(`event type ${type} must look like domain.verb_ed`);
  }
  return defs;
}
