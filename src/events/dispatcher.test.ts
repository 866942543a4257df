import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DomainEvent } from './events.types.js';
import { defineSubscriber, type Subscriber } from './subscribers.js';
import { withSystem } from '../db/tenancy.js';
import { client, createTestWorkspace, eventually, startTestServer, type TestServer } from '../../test/helpers.js';

let rapport: TestServer;
const delivered: { subscriber: string; event: DomainEvent; attempt: number }[] = [];
let failures = 0;

// Fails the first time it sees each event: the outbox must hand it over again.
const flaky: Subscriber = {
  name: 'test.flaky',
  types: ['conversation.created'],
  async handle(event, ctx) {
    delivered.push({ subscriber: 'flaky', event, attempt: ctx.attempt });
    if (ctx.attempt === 1) {
      failures++;
      throw new Error('simulated subscriber failure');
    }
  },
};
const steady: Subscriber = {
  name: 'test.steady',
  types: '*',
  async handle(event, ctx) {
    delivered.push({ subscriber: 'steady', event, attempt: ctx.attempt });
  },
};

// Wants notes only: every other message.created must cost it no job at all.
const notesOnly = defineSubscriber({
  name: 'test.notes_only',
  types: ['message.created'],
  accepts: (event) => event.data.messageType === 'note',
  async handle(event, ctx) {
    delivered.push({ subscriber: 'notes_only', event, attempt: ctx.attempt });
  },
});

beforeAll(async () => {
  rapport = await startTestServer({ subscribers: [flaky, steady, notesOnly] });
});
afterAll(async () => rapport?.stop());

describe('the transactional outbox', () => {
  it('delivers an event again after a subscriber failed once, without re-delivering to the others', async () => {
    const ws = await createTestWorkspace(rapport);
    const api = client(rapport, ws.token, ws.workspaceId);
    const created = (await api.post('/conversations', { customer: { email: 'a@example.test' }, message: { body: 'hello' } })).json();

    const second = await eventually(async () => delivered.find((d) => d.subscriber === 'flaky' && d.event.conversationId === created.id && d.attempt === 2), 20_000);
    expect(second.event.type).toBe('conversation.created');
    expect(second.event.workspaceId).toBe(ws.workspaceId);
    expect(failures).toBeGreaterThanOrEqual(1);

    const steadyTypes = delivered.filter((d) => d.subscriber === 'steady' && d.event.conversationId === created.id).map((d) => d.event.type);
    expect(steadyTypes.sort()).toEqual(['conversation.created', 'message.created']);
    // Every event was dispatched exactly once by the dispatcher.
    const counts = await withSystem(
      rapport.pool,
      async (tx) => (await tx.query('select count(*)::int as total, count(*) filter (where dispatched_at is null)::int as pending from events where workspace_id = $1', [ws.workspaceId])).rows[0],
    );
    expect(counts.total).toBeGreaterThanOrEqual(3);
    expect(counts.pending).toBe(0);
  });

  it('hands a subscriber only the events it accepts (the others never become its jobs)', async () => {
    const ws = await createTestWorkspace(rapport);
    const api = client(rapport, ws.token, ws.workspaceId);
    const created = (await api.post('/conversations', { customer: { email: 'n@example.test' }, message: { body: 'inbound' } })).json();
    await api.post(`/conversations/${created.id}/messages`, { type: 'reply', body: 'a reply' });
    const note = (await api.post(`/conversations/${created.id}/messages`, { type: 'note', body: 'a note' })).json();
    await eventually(async () => delivered.some((d) => d.subscriber === 'notes_only' && d.event.type === 'message.created' && d.event.data.messageId === note.id), 20_000);
    await eventually(async () => delivered.filter((d) => d.subscriber === 'steady' && d.event.conversationId === created.id).length >= 4, 20_000);
    const mine = delivered.filter((d) => d.subscriber === 'notes_only' && d.event.conversationId === created.id);
    expect(mine.map((d) => (d.event.type === 'message.created' ? d.event.data.messageType : d.event.type))).toEqual(['note']);
  });

  it('writes nothing, not even the event, when the change fails', async () => {
    const ws = await createTestWorkspace(rapport);
    const api = client(rapport, ws.token, ws.workspaceId);
    const countEvents = () => withSystem(rapport.pool, async (tx) => (await tx.query('select count(*)::int as n from events')).rows[0].n as number);
    const before = await countEvents();
    // A nonexistent inbox fails inside the transaction after nothing was committed.
    const res = await api.post('/conversations', { inboxId: '00000000-0000-4000-8000-000000000000', customer: { email: 'b@example.test' }, message: { body: 'x' } });
    expect(res.statusCode).toBe(404);
    expect(await countEvents()).toBe(before);
    expect(before).toBeGreaterThan(0);
  });
});
