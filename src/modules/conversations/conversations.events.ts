import { Type } from 'typebox';
import { AGENTS_AND_CLIENTS, defineEvents } from '../../events/define.js';
import { Nullable, Uuid } from '../../http/schemas.js';
import { PRIORITIES, STATUSES } from './conversations.schemas.js';

/**
 * Why a status changed. Every `conversation.status_changed` carries one, so an SLA timer or a report
 * can tell an agent's decision from the system's: `manual` (an agent, an API client or a macro set it),
 * `customer_replied` (a customer wrote to a resolved, closed or snoozed conversation), `snooze_ended`.
 */
export const STATUS_CHANGE_REASONS = ['manual', 'customer_replied', 'snooze_ended'] as const;
export type StatusChangeReason = (typeof STATUS_CHANGE_REASONS)[number];

export const conversationEvents = defineEvents({
  'conversation.created': {
    description: 'A conversation was opened with its first inbound message (which follows as message.created).',
    scope: 'conversation',
    audience: { clients: true, customer: { fields: ['number'] } },
    data: Type.Object(
      {
        number: Type.Integer({ minimum: 1, description: 'its number in the workspace, as agents see it (#42)' }),
        inboxId: Type.String({ format: 'uuid', description: 'the inbox it arrived in' }),
        customerId: Type.String({ format: 'uuid', description: 'the customer who wrote' }),
      },
      { additionalProperties: false },
    ),
  },
  'conversation.status_changed': {
    description: 'The status changed (open, pending, snoozed, resolved, closed).',
    scope: 'conversation',
    audience: { clients: true, customer: { fields: ['from', 'to'] } },
    data: Type.Object(
      {
        from: Type.Enum(STATUSES, { description: 'the status before' }),
        to: Type.Enum(STATUSES, { description: 'the status now' }),
        snoozedUntil: Nullable(Type.String({ format: 'date-time', description: 'when a snooze ends; null unless `to` is snoozed' })),
        reason: Type.Enum(STATUS_CHANGE_REASONS, {
          description: 'manual: an agent, API client or macro set it; customer_replied: a customer wrote to a resolved, closed or snoozed conversation; snooze_ended',
        }),
      },
      { additionalProperties: false },
    ),
  },
  'conversation.priority_changed': {
    description: 'The priority changed.',
    scope: 'conversation',
    audience: AGENTS_AND_CLIENTS,
    data: Type.Object({ from: Type.Enum(PRIORITIES, { description: 'the priority before' }), to: Type.Enum(PRIORITIES, { description: 'the priority now' }) }, { additionalProperties: false }),
  },
  'conversation.assigned': {
    description: 'The assignee changed; `to` null means unassigned.',
    scope: 'conversation',
    audience: AGENTS_AND_CLIENTS,
    data: Type.Object(
      {
        from: Type.Union([Uuid, Type.Null()], { description: 'the previous assignee (a user id) or null' }),
        to: Type.Union([Uuid, Type.Null()], { description: 'the new assignee (a user id) or null' }),
      },
      { additionalProperties: false },
    ),
  },
  'conversation.team_changed': {
    description: 'The team changed; `to` null means no team.',
    scope: 'conversation',
    audience: AGENTS_AND_CLIENTS,
    data: Type.Object(
      {
        from: Type.Union([Uuid, Type.Null()], { description: 'the previous team id or null' }),
        to: Type.Union([Uuid, Type.Null()], { description: 'the new team id or null' }),
      },
      { additionalProperties: false },
    ),
  },
  'conversation.tags_changed': {
    description: 'Tags were added or removed (normalised: trimmed, lower case).',
    scope: 'conversation',
    audience: AGENTS_AND_CLIENTS,
    data: Type.Object(
      {
        added: Type.Array(Type.String(), { description: 'tags it now has and did not have' }),
        removed: Type.Array(Type.String(), { description: 'tags it had and no longer has' }),
      },
      { additionalProperties: false },
    ),
  },
  'conversation.subject_changed': {
    description: 'The subject changed.',
    scope: 'conversation',
    audience: AGENTS_AND_CLIENTS,
    data: Type.Object(
      {
        from: Nullable(Type.String({ description: 'the previous subject' })),
        to: Nullable(Type.String({ description: 'the new subject' })),
      },
      { additionalProperties: false },
    ),
  },
  'message.created': {
    description: "A message was added: a customer's inbound message, an agent's reply (outbound) or an internal note.",
    scope: 'conversation',
    audience: {
      clients: { when: (d: { messageType: string }) => d.messageType !== 'note', doc: 'unless it is a note' },
      customer: { fields: ['messageId', 'messageType'], when: (d: { messageType: string }) => d.messageType === 'inbound' || d.messageType === 'outbound', doc: 'inbound and outbound messages only' },
    },
    data: Type.Object(
      {
        messageId: Type.String({ format: 'uuid', description: 'the new message' }),
        messageType: Type.Enum(['inbound', 'outbound', 'note'], { description: 'inbound, outbound or note; notes are never shown to customers' }),
      },
      { additionalProperties: false },
    ),
  },
  'message.updated': {
    description: 'Facts about a message changed, e.g. a channel recorded its delivery status in its metadata.',
    scope: 'conversation',
    audience: {
      // Fails closed: the payload does not say whether the message is a note (found in review), and
      // notes are never sent, so a delivery fact is only ever about a reply agents follow.
      clients: false,
      customer: false,
    },
    data: Type.Object(
      {
        messageId: Type.String({ format: 'uuid', description: 'the message' }),
        fields: Type.Array(Type.String(), { minItems: 1, description: 'what changed, e.g. metadata.email' }),
      },
      { additionalProperties: false },
    ),
  },
});
