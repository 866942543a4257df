import type { Static } from 'typebox';
import { channelEvents } from '../modules/channels/channels.events.js';
import { conversationEvents } from '../modules/conversations/conversations.events.js';
import { customerEvents } from '../modules/customers/customers.events.js';
import { inboxEvents } from '../modules/inboxes/inboxes.events.js';
import { macroEvents } from '../modules/macros/macros.events.js';
import { notificationEvents } from '../modules/notifications/notifications.events.js';
import { viewEvents } from '../modules/views/views.events.js';
import type { EventAudience, EventDefinition } from './define.js';

/**
 * Every domain event Rapport records, joined from the modules' `<domain>.events.ts`. A module with
 * events adds one argument here; `recordEvents` refuses anything not listed, and docs/EVENTS.md is
 * generated from this (npm run docs:events).
 */
export const eventCatalogue = join(conversationEvents, customerEvents, macroEvents, channelEvents, notificationEvents, viewEvents, inboxEvents);

export type EventCatalogue = typeof eventCatalogue;
export type EventType = keyof EventCatalogue & string;
/** The payload of one event type, as its schema checks it. */
export type EventData<T extends EventType> = Static<EventCatalogue[T]['data']>;
/** `{ type, data }` of any of the given types, as a union a switch on `type` narrows. */
export type EventFacts<T extends EventType = EventType> = { [K in T]: { type: K; data: EventData<K> } }[T];

/**
 * Compile-time check of every declaration's audience against its own payload: a customer field that
 * is not in `data`, or a `when` reading a field that is not there, does not compile.
 */
type AudiencesFit<C extends { [K in EventType]: { audience: EventAudience<EventData<K>> } }> = C;
export type CheckedCatalogue = AudiencesFit<EventCatalogue>;

type UnionToIntersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void ? I : never;

/** Two modules declaring the same type would silently overwrite each other: refused at start. */
function join<P extends Record<string, EventDefinition>[]>(...parts: P): UnionToIntersection<P[number]> {
  const all: Record<string, EventDefinition> = {};
  for (const part of parts) {
    for (const [type, def] of Object.entries(part)) {
      if (type in all) throw new Error(`event type ${type} is declared twice`);
      all[type] = def;
    }
  }
  return all as UnionToIntersection<P[number]>;
}

export function isEventType(type: string): type is EventType {
  return Object.hasOwn(eventCatalogue, type);
}
