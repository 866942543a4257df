/** Domain events: what happened, written in the same transaction as the change (the outbox). */
export type EventType =
  | 'conversation.created'
  | 'conversation.status_changed'
  | 'conversation.priority_changed'
  | 'conversation.assigned'
  | 'conversation.team_changed'
  | 'conversation.tags_changed'
  | 'conversation.subject_changed'
  | 'message.created'
  | 'customer.created'
  | 'customer.updated'
  | (string & {});

export type ActorType = 'user' | 'token' | 'customer' | 'system';

export interface Actor {
  type: ActorType;
  id: string | null;
}

export interface DomainEvent {
  id: string;
  workspaceId: string;
  conversationId: string | null;
  type: EventType;
  actor: Actor;
  data: Record<string, unknown>;
  createdAt: Date;
}

export const systemActor: Actor = { type: 'system', id: null };
