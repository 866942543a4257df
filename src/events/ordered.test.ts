import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withSystem } from '../db/tenancy.js';
import { client, createTestWorkspace, eventually, startTestServer, type TestServer } from '../../test/helpers.js';
import { defineSubscriber } from './subscribers.js';

let rapport: TestServer;
/** Messages handled successfully, per conversation, in the order the subscriber finished them. */
const handled = new Map<string, string[]>();
const failedAttempts: { messageId: string; attempt: number }[] = [];
const inFlight = new Map<string, number>();
let mostAtOnce = 0;

// Fails the first message of a conversation twice (backoff e^1 + e^2 s), and takes a little time
// with each, so later messages have every chance to overtake it if nothing holds them back.
const ordered = defineSubscriber({
  name: 'test.ordered',
  types: ['message.created'],
  ordered: true,
  async handle(event, ctx) {
    const conversationId = event.conversationId!;
    const running = (inFlight.get(conversationId) ?? 0) + 1;
    inFlight.set(conversationId, running);
    mostAtOnce = Math.max(mostAtOnce, running);
    try {
      await new Promise((r) => setTimeout(r, 30));
      const first = !handled.has(conversationId);
      if (first && event.data.messageType === 'inbound' && ctx.attempt <= 2) {
        failedAttempts.push({ messageId: event.data.messageId, attempt: ctx.attempt });
        throw new Error('simulated failure');
      }
      handled.set(conversationId, [...(handled.get(conversationId) ?? []), event.data.messageId]);
    } finally {
      inFlight.set(conversationId, (inFlight.get(conversationId) ?? 1) - 1);
    }
  },
});

// Never manages the first message of a conversation in a poisoned workspace, and gives up after two tries.
const poisonedWorkspaces = new Set<string>();
const poisonHandled: string[] = [];
const poisonAttempts: number[] = [];
const poison = defineSubscriber({
  name: 'test.poison',
  types: ['message.created'],
  ordered: true,
  maxAttempts: 2,
  async handle(event, ctx) {
    if (!poisonedWorkspaces.has(event.workspaceId)) return;
    if (event.data.messageType === 'inbound') {
      poisonAttempts.push(ctx.attempt);
      throw new Error('poisoned');
    }
    poisonHandled.push(event.data.messageId);
  },
});

beforeAll(async () => {
  rapport = await startTestServer({ subscribers: [ordered, poison] });
});
afterAll(async () => rapport?.stop());

describe('ordered subscribers', () => {
  it("get a conversation's events one at a time in event order, a failed one retried before the later ones", async () => {
    const ws = await createTestWorkspace(rapport);
    const api = client(rapport, ws.token, ws.workspaceId);
    const created = (await api.post('/conversations', { customer: { email: 'o@example.test' }, message: { body: 'first' } })).json();
    // The first message has failed once: everything after it must now wait for its retries.
    await eventually(async () => failedAttempts.length >= 1, 20_000);
    const notes: string[] = [];
    for (let i = 0; i < 4; i++) notes.push((await api.post(`/conversations/${created.id}/messages`, { type: 'note', body: `note ${i}` })).json().id);

    const all = await eventually(async () => ((handled.get(created.id)?.length ?? 0) >= 5 ? handled.get(created.id) : undefined), 60_000);
    const messages = (await api.get(`/conversations/${created.id}/messages`)).json().items as { id: string; type: string }[];
    expect(messages.map((m) => m.id).slice(1)).toEqual(notes);
    expect(all).toEqual(messages.map((m) => m.id));
    expect(failedAttempts.map((f) => [f.messageId, f.attempt])).toEqual([
      [messages[0].id, 1],
      [messages[0].id, 2],
    ]);
    expect(mostAtOnce).toBe(1);

    // Nothing is left pending once every delivery succeeded.
    const left = await withSystem(
      rapport.pool,
      async (tx) => (await tx.query("select count(*)::int as n from event_deliveries where conversation_id = $1 and subscriber = 'test.ordered'", [created.id])).rows[0].n,
    );
    expect(left).toBe(0);
  });

  it('keep an event that failed every attempt as a dead letter, and go on with the later ones', async () => {
    const ws = await createTestWorkspace(rapport);
    poisonedWorkspaces.add(ws.workspaceId);
    const api = client(rapport, ws.token, ws.workspaceId);
    const created = (await api.post('/conversations', { customer: { email: 'p@example.test' }, message: { body: 'poison' } })).json();
    const note = (await api.post(`/conversations/${created.id}/messages`, { type: 'note', body: 'after the poison' })).json();

    await eventually(async () => poisonHandled.includes(note.id), 60_000);
    expect(poisonAttempts).toEqual([1, 2]);
    const dead = await withSystem(
      rapport.pool,
      async (tx) => (await tx.query("select attempts, last_error, failed_at from event_deliveries where conversation_id = $1 and subscriber = 'test.poison'", [created.id])).rows,
    );
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({ attempts: 2, last_error: 'poisoned' });
    expect(dead[0].failed_at).toBeInstanceOf(Date);
  });
});
