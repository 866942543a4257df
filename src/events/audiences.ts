/**
 * Who may see each domain event, and how much of it. Three audiences read a workspace's events:
 *
 * - `agents` (agent and up): every event, whole.
 * - `clients` (client viewers: a provider's client company): the conversation's life (created, status,
 *   priority, assignment, team, tags, subject), its customer-visible messages, customers and macros;
 *   never an internal note or an event about one.
 * - `customer` (the customer of one conversation, through a customer credential): only the public
 *   facts of their own conversations: that it was opened, its status, and its customer-visible
 *   messages; never notes, assignments, tags, teams, priority, or any field not listed here.
 *
 * An event type missing from this table reaches agents only: a new event is private until someone
 * decides otherwise, so forgetting it here cannot leak it. REST reads (the conversation timeline) and
 * the realtime hub both decide from this table.
 */
export type Audience = 'agents' | 'clients' | 'customer';

interface Rule {
  /** Whether client viewers see it (given its data). */
  clients: boolean | ((data: Record<string, unknown>) => boolean);
  /** The data fields a conversation's customer sees; absent: the customer never sees this event. */
  customer?: { fields: readonly string[]; when?: (data: Record<string, unknown>) => boolean };
}

// Fails closed: a payload that does not say its message's type is not shown (message.updated carried none, found in review).
const notANote = (data: Record<string, unknown>) => data.messageType !== undefined && data.messageType !== 'note';
const customerVisibleMessage = (data: Record<string, unknown>) => data.messageType === 'inbound' || data.messageType === 'outbound';

const RULES: Record<string, Rule> = {
  'conversation.created': { clients: true, customer: { fields: ['number'] } },
  'conversation.status_changed': { clients: true, customer: { fields: ['from', 'to'] } },
  'conversation.priority_changed': { clients: true },
  'conversation.assigned': { clients: true },
  'conversation.team_changed': { clients: true },
  'conversation.tags_changed': { clients: true },
  'conversation.subject_changed': { clients: true },
  'message.created': { clients: notANote, customer: { fields: ['messageId', 'messageType'], when: customerVisibleMessage } },
  // Delivery facts of a reply (channel metadata): notes are never sent, so never updated this way.
  'message.updated': { clients: notANote },
  'customer.created': { clients: true },
  'customer.updated': { clients: true },
  'macro.created': { clients: true },
  'macro.updated': { clients: true },
  'macro.deleted': { clients: true },
};

/**
 * Event types a client viewer's timeline may hold (the SQL filter of the REST timeline; it also
 * drops events whose `data.messageType` is `note`, the one per-event condition of the table above).
 */
export const CLIENT_TIMELINE_TYPES: string[] = Object.entries(RULES)
  .filter(([, r]) => r.clients !== false)
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
export function eventFor<E extends AudienceEvent>(audience: Audience, event: E): E | null {
  if (audience === 'agents') return event;
  const rule = RULES[event.type];
  if (!rule) return null;
  if (audience === 'clients') {
    const ok = typeof rule.clients === 'function' ? rule.clients(event.data) : rule.clients;
    return ok ? event : null;
  }
  const c = rule.customer;
  if (!c || (c.when && !c.when(event.data))) return null;
  const data: Record<string, unknown> = {};
  for (const f of c.fields) if (f in event.data) data[f] = event.data[f];
  const kind = event.actor.type === 'customer' || event.actor.type === 'system' ? event.actor.type : 'agent';
  const actor = { type: kind, id: null };
  return { ...event, actor, data };
}
