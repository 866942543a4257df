import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrationsDir } from '../db/migrate.js';
import { withWorkspace, withSystem } from '../db/tenancy.js';
import { AppError } from '../lib/errors.js';
import { client, createTestWorkspace, startTestServer, type TestServer } from '../../test/helpers.js';
import { checkEvent, recordEvents, type NewEvent } from './outbox.js';
import { systemActor } from './events.types.js';

let rapport: TestServer;
beforeAll(async () => {
  rapport = await startTestServer();
});
afterAll(async () => rapport?.stop());

const conversationId = '00000000-0000-4000-8000-000000000001';
const messageId = '00000000-0000-4000-8000-000000000002';
const at = new Date('2026-01-01T00:00:00Z');

function refusal(fn: () => void): AppError {
  try {
    fn();
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('the event was accepted');
}

describe('the event catalogue', () => {
  it('accepts an event whose payload fits its type', () => {
    expect(() => checkEvent({ type: 'message.created', conversationId, data: { messageId, messageType: 'note' } })).not.toThrow();
  });

  it('refuses a type it does not list', () => {
    expect(refusal(() => checkEvent({ type: 'message.exploded', conversationId, data: {} })).code).toBe('events.unknown_type');
  });

  it('refuses a payload that misses a field, has one too many or the wrong value, naming each', () => {
    const e = refusal(() => checkEvent({ type: 'conversation.status_changed', conversationId, data: { from: 'open', to: 'asleep', snoozedUntil: null, extra: 1 } }));
    expect(e.code).toBe('events.invalid_payload');
    expect(e.status).toBe(500);
    const paths = (e.errors ?? []).map((x) => x.path);
    expect(paths).toContain('data.to');
    expect(paths).toContain('data.extra');
    expect(e.message).toMatch(/reason/);
  });

  it('refuses a conversation event without its conversation', () => {
    const e = refusal(() => checkEvent({ type: 'message.created', data: { messageId, messageType: 'note' } }));
    expect(e.errors?.map((x) => x.path)).toEqual(['conversationId']);
  });

  it('makes a wrong payload a compile error too', () => {
    const ok: NewEvent = { workspaceId: conversationId, type: 'macro.deleted', actor: systemActor, data: { macroId: messageId }, at };
    // @ts-expect-error messageType is not one of the catalogue's values
    const wrong: NewEvent = { workspaceId: conversationId, conversationId, type: 'message.created', actor: systemActor, data: { messageId, messageType: 'shout' }, at };
    // @ts-expect-error a macro event carries a macroId, not a customerId
    const mixed: NewEvent = { workspaceId: conversationId, type: 'macro.deleted', actor: systemActor, data: { customerId: messageId }, at };
    expect([ok, wrong, mixed].map((e) => e.type)).toEqual(['macro.deleted', 'message.created', 'macro.deleted']);
  });

  it('rolls the whole change back when one of its events is refused', async () => {
    const ws = await createTestWorkspace(rapport);
    const api = client(rapport, ws.token, ws.workspaceId);
    const created = (await api.post('/conversations', { customer: { email: 'w@example.test' }, subject: 'before', message: { body: 'hi' } })).json();
    const countEvents = () => withSystem(rapport.pool, async (tx) => (await tx.query('select count(*)::int as n from events where workspace_id = $1', [ws.workspaceId])).rows[0].n as number);
    const before = await countEvents();

    const attempt = withWorkspace(rapport.pool, ws.workspaceId, async (tx) => {
      await tx.query('update conversations set subject = $3 where workspace_id = $1 and id = $2', [ws.workspaceId, created.id, 'after']);
      await recordEvents(tx, [
        { workspaceId: ws.workspaceId, conversationId: created.id, type: 'conversation.subject_changed', actor: systemActor, data: { from: 'before', to: 'after' }, at },
        // A bug in a caller: the payload of another type (only a cast gets it past the compiler).
        { workspaceId: ws.workspaceId, conversationId: created.id, type: 'conversation.assigned', actor: systemActor, data: { from: 'before', to: 'after' }, at } as unknown as NewEvent,
      ]);
    });
    await expect(attempt).rejects.toMatchObject({ code: 'events.invalid_payload' });

    expect((await api.get(`/conversations/${created.id}`)).json().subject).toBe('before');
    expect(await countEvents()).toBe(before);
  });

  it('gives every status change a reason: manual when an agent or API client made it', async () => {
    const ws = await createTestWorkspace(rapport);
    const api = client(rapport, ws.token, ws.workspaceId);
    const created = (await api.post('/conversations', { customer: { email: 'r@example.test' }, message: { body: 'hi' } })).json();
    await api.patch(`/conversations/${created.id}`, { status: 'resolved' });
    const events = (await api.get(`/conversations/${created.id}/events`)).json().items as { type: string; data: Record<string, unknown> }[];
    expect(events.filter((e) => e.type === 'conversation.status_changed').map((e) => e.data)).toEqual([{ from: 'open', to: 'resolved', snoozedUntil: null, reason: 'manual' }]);

    // Events recorded before reasons existed get `manual` from migration 0091, the rest are untouched.
    const ids = await withSystem(rapport.pool, async (tx) => {
      const insert = async (data: object) =>
        (
          await tx.query(`insert into events (workspace_id, conversation_id, type, actor_type, data, created_at) values ($1, $2, 'conversation.status_changed', 'system', $3, now()) returning id`, [
            ws.workspaceId,
            created.id,
            JSON.stringify(data),
          ])
        ).rows[0].id as string;
      return [await insert({ from: 'open', to: 'pending', snoozedUntil: null }), await insert({ from: 'closed', to: 'open', snoozedUntil: null, reason: 'customer_replied' })];
    });
    await withSystem(rapport.pool, (tx) => tx.query(readFileSync(path.join(migrationsDir, '0091_status_change_reason.sql'), 'utf8')));
    const reasons = await withSystem(rapport.pool, async (tx) =>
      (await tx.query("select data->>'reason' as reason from events where id = any($1::bigint[]) order by id", [ids])).rows.map((r) => r.reason),
    );
    expect(reasons).toEqual(['manual', 'customer_replied']);
  });
});
