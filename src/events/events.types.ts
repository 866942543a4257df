/** Domain events: what happened, written in the same transaction as the change (the outbox). */
import type { EventData, EventType } from './catalogue.js';

export type { EventData, EventFacts, EventType } from './catalogue.js';

export type ActorType = 'user' | 'token' | 'customer' | 'system';

export interface Actor {
  type: ActorType;
  id: string | null;
}

/**
 * A recorded event as subscribers receive it. Generic over the catalogue: `DomainEvent<'message.created'>`
 * has that payload as `data`, and `DomainEvent` (all types) is a union a switch on `type` narrows.
 */
export type DomainEvent<T extends EventType = EventType> = {
  [K in T]: {
    id: string;
    workspaceId: string;
    conversationId: string | null;
    type: K;
    actor: Actor;
    data: EventData<K>;
    createdAt: Date;
  };
}[T];

/**
 * An event as JSON carries it to clients (the conversation timeline over REST, the WebSocket): ids
 * and times as strings. The web app imports this type instead of copying event names and payloads.
 */
export type EventJson<T extends EventType = EventType> = {
  [K in T]: {
    id: string;
    type: K;
    actor: { type: ActorType; id: string | null };
    data: EventData<K>;
    createdAt: string;
  };
}[T];

export const systemActor: Actor = { type: 'system', id: null };
