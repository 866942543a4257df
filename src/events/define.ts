import type { TSchema } from 'typebox';

/**
 * Who besides agents may see an event (agents and up see every event, whole). Declared with the event,
 * so a new event cannot be added without deciding it (a missing `audience` does not compile).
 *
 * - `clients` (client viewers: a provider's client company): `true`, `false`, or a test of the payload
 *   with a sentence for docs/EVENTS.md (`{ when, doc }`).
 * - `customer` (the customer of the event's conversation, through a customer credential): `false`, or
 *   the payload fields they see (nothing else of the payload reaches them) and, optionally, when.
 */
export interface EventAudience<D = any> {
  clients: boolean | { when(data: D): boolean; doc: string };
  customer: false | { fields: readonly (keyof D & string)[]; when?(data: D): boolean; doc?: string };
  /**
   * For one person only: the payload field holding the user id of the only member who receives it (a
   * notification). Set, it overrides the rest: no other agent, no client viewer and no customer gets it,
   * live or replayed (events/audiences.ts).
   */
  recipient?: keyof D & string;
}

/** Agents only: what a new event should start as until someone decides to show it further. */
export const AGENTS_ONLY = { clients: false, customer: false } as const satisfies EventAudience;
/** Agents and client viewers; never a customer. */
export const AGENTS_AND_CLIENTS = { clients: true, customer: false } as const satisfies EventAudience;

/**
 * One event in the catalogue: what happened, in the past tense, and the payload it always carries.
 * `scope` says whether the event belongs to a conversation: recording a conversation event without a
 * conversationId is refused, so timelines, realtime and ordered subscribers can rely on it.
 */
export interface EventDefinition<S extends TSchema = TSchema> {
  description: string;
  scope: 'conversation' | 'workspace';
  data: S;
  /** Who besides agents sees it; checked against `data` in catalogue.ts (`AudiencesFit`). */
  audience: EventAudience;
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
