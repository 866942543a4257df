import { eventCatalogue, isEventType } from './catalogue.js';
import type { EventAudience } from './define.js';

/**
 * Who may see each domain event, and how much of it, as each event's declaration says (`audience` in
 * its `<domain>.events.ts`; define.ts). Three audiences read a workspace's events:
 *
 * - `agents` (agent and up): every event, whole.
 * - `clients` (client viewers: a provider's client company): the events whose `audience.clients` lets
 *   them; never an internal note or an event about one.
 * - `customer` (the customer of one conversation, through a customer credential): only the fields its
 *   `audience.customer` names, of their own conversations' events.
 *
 * - one `recipient` (a notification): only the agent sockets (agent and up) of that one member.
 *
 * A type outside the catalogue (none is recorded, but rows outlive code) reaches agents only. REST
 * reads (the conversation timeline) and the realtime hub both decide from here.
 */
export type Audience = 'agents' | 'clients' | 'customer';

/**
 * Event types a client viewer's timeline may hold (the SQL filter of the REST timeline; it also
 * drops events whose `data.messageType` is `note`, the one per-event condition declared today).
 */
export const CLIENT_TIMELINE_TYPES: string[] = Object.entries(eventCatalogue)
  .filter(([, def]) => def.audience.clients !== false)
  .map(([type]) => type);

export interface AudienceEvent {
  type: string;
  actor: { type: string; id: string | null };
  data: Record<string, unknown>;
}

/**
 * What `audience` may see of an event: the event (its data cut to the allowed fields for a customer),
 * or null when it must not reach them at all. A customer learns what kind of party acted (customer,
 * agent, system) but no id: an agent's or token's id is an internal fact, and another customer on the
 * same thread (a CC) is not theirs to know.
 */
export function eventFor<E extends AudienceEvent>(audience: Audience, event: E, userId?: string | null): E | null {
  const recipient = recipientOf(event);
  // Notifications are for members who work conversations: an agent's socket of that one person.
  if (recipient !== undefined) return audience === 'agents' && userId && recipient === userId ? event : null;
  if (audience === 'agents') return event;
  if (!isEventType(event.type)) return null;
  // Widened: the payload was checked against this type's schema when it was recorded.
  const rule: EventAudience<Record<string, unknown>> = eventCatalogue[event.type].audience;
  if (audience === 'clients') {
    const ok = typeof rule.clients === 'object' ? rule.clients.when(event.data) : rule.clients;
    return ok ? event : null;
  }
  const c = rule.customer;
  if (!c || (c.when && !c.when(event.data))) return null;
  const data: Record<string, unknown> = {};
  for (const f of c.fields as readonly string[]) if (f in event.data) data[f] = event.data[f];
  const kind = event.actor.type === 'customer' || event.actor.type === 'system' ? event.actor.type : 'agent';
  const actor = { type: kind, id: null };
  return { ...event, actor, data };
}

/**
 * The one user an event is for (its declaration's `recipient`: a notification), or undefined when it
 * is for an audience. A recipient event whose field is missing names nobody ('' matches no user).
 */
export function recipientOf(event: { type: string; data: Record<string, unknown> }): string | undefined {
  if (!isEventType(event.type)) return undefined;
  const field = (eventCatalogue[event.type].audience as EventAudience<Record<string, unknown>>).recipient;
  if (field === undefined) return undefined;
  const value = event.data[field];
  return typeof value === 'string' ? value : '';
}
