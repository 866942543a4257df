import { Type } from 'typebox';
import { describe, expect, it } from 'vitest';
import { CLIENT_TIMELINE_TYPES, eventFor } from './audiences.js';
import { eventCatalogue } from './catalogue.js';
import { AGENTS_ONLY, defineEvents, type EventAudience } from './define.js';
import { renderEventsDoc } from './events.docs.js';

const actor = { type: 'user', id: '00000000-0000-4000-8000-000000000001' };
const messageId = '00000000-0000-4000-8000-000000000002';

describe('event audiences, declared with each event', () => {
  it('will not compile an event that does not say who may see it, or a customer field its payload lacks', () => {
    const data = Type.Object({ thingId: Type.String() });
    // @ts-expect-error `audience` is required: a new event cannot be published by forgetting it
    const forgot = defineEvents({ 'thing.happened': { description: 'x', scope: 'workspace', data } });
    const decided = defineEvents({ 'thing.happened': { description: 'x', scope: 'workspace', data, audience: AGENTS_ONLY } });
    // @ts-expect-error a customer sees only fields of the payload
    const wrong: EventAudience<{ thingId: string }> = { clients: false, customer: { fields: ['secret'] } };
    expect([Object.keys(forgot), Object.keys(decided), wrong.clients]).toEqual([['thing.happened'], ['thing.happened'], false]);
  });

  it('gives every catalogue event its declared audience: clients see no note, a customer only the listed fields', () => {
    for (const def of Object.values(eventCatalogue)) expect(def.audience).toBeDefined();
    const note = { type: 'message.created', actor, data: { messageId, messageType: 'note' } };
    const reply = { type: 'message.created', actor, data: { messageId, messageType: 'outbound' } };
    expect(eventFor('clients', note)).toBeNull();
    expect(eventFor('customer', note)).toBeNull();
    expect(eventFor('clients', reply)).toBe(reply);
    expect(eventFor('customer', { type: 'conversation.created', actor, data: { number: 4, inboxId: messageId, customerId: messageId } })).toMatchObject({
      actor: { type: 'agent', id: null },
      data: { number: 4 },
    });
    expect(eventFor('customer', { type: 'conversation.created', actor, data: { number: 4, inboxId: messageId } })?.data).toEqual({ number: 4 });
    expect(eventFor('clients', { type: 'message.delivery_changed', actor, data: {} })).toBeNull();
    expect(eventFor('clients', { type: 'test.unknown', actor, data: {} })).toBeNull();
    expect(CLIENT_TIMELINE_TYPES).toContain('conversation.assigned');
    expect(CLIENT_TIMELINE_TYPES).not.toContain('message.delivery_changed');
  });

  it('gives an event for one member (a notification) to that member’s agent sockets only', () => {
    const bob = '00000000-0000-4000-8000-00000000000b';
    const created = { type: 'notification.created', actor, data: { notificationId: messageId, userId: bob, kind: 'mentioned', conversationId: null } };
    expect(eventFor('agents', created, bob)).toBe(created);
    expect(eventFor('agents', created, actor.id)).toBeNull();
    expect(eventFor('agents', created, null)).toBeNull();
    expect(eventFor('agents', created)).toBeNull();
    expect(eventFor('clients', created, bob)).toBeNull();
    expect(eventFor('customer', created, bob)).toBeNull();
    expect(CLIENT_TIMELINE_TYPES).not.toContain('notification.created');
  });

  it('lists each event’s audience in docs/EVENTS.md', () => {
    const doc = renderEventsDoc([]);
    expect(doc).toMatch(/## message\.created[\s\S]*?Audience: agents, client viewers \(unless it is a note\), the conversation's customer \([^)]*fields `messageId`, `messageType` only\)\./);
    expect(doc).toMatch(/\| \[`message\.delivery_changed`\]\(#messagedeliverychanged\) \| conversation \| agents \|/);
  });
});
