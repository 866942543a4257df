import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, type TestServer, type TestWorkspace, startWithWorkspace } from '../../test/helpers.js';
import { withSystem } from '../db/tenancy.js';
import { purgeIdempotencyKeys } from './idempotency.js';

let rapport: TestServer;
let ws: TestWorkspace;
let api: ReturnType<typeof client>;

beforeAll(async () => ({ rapport, ws, api } = await startWithWorkspace()));
afterAll(async () => rapport?.stop());

const conversation = (email: string) => ({ customer: { email }, subject: 'idempotent', message: { body: 'hello' } });
const age = (key: string, interval: string, unanswered = false) => withSystem(rapport.pool, (tx) =>
  tx.query(`update idempotency_keys set created_at = now() - $2::interval ${unanswered ? ', status_code = null, response = null' : ''} where key = $1`, [key, interval]));
const countFor = async (email: string) => (await api.get(`/conversations?q=${encodeURIComponent(email)}`)).json().items.length as number;

describe('Idempotency-Key lifetime', () => {
  it('replays an error answer as problem+json, like the first one', async () => {
    // Schema failures answer before a key is claimed; a use case's refusal is remembered.
    const missing = '/conversations/00000000-0000-4000-8000-000000000000/messages';
    const first = await api.post(missing, { type: 'note', body: 'x' }, { 'idempotency-key': 'bad-1' });
    const again = await api.post(missing, { type: 'note', body: 'x' }, { 'idempotency-key': 'bad-1' });
    expect(first.statusCode).toBe(404);
    expect(again.statusCode).toBe(404);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.headers['content-type']).toBe(first.headers['content-type']);
    expect(String(again.headers['content-type'])).toMatch(/^application\/problem\+json/);
    expect(again.json()).toEqual(first.json());
  });

  it('lets a retry take over a claim whose request never answered (the process died), but not a fresh one', async () => {
    const body = conversation('abandoned@example.test');
    await api.post('/conversations', body, { 'idempotency-key': 'abandoned-1' });
    // As if the first request had claimed the key and died before its work committed.
    await withSystem(rapport.pool, (tx) => tx.query("delete from conversations where subject = 'idempotent' and workspace_id = $1", [ws.workspaceId]));
    await age('abandoned-1', '10 seconds', true);
    const inProgress = await api.post('/conversations', body, { 'idempotency-key': 'abandoned-1' });
    expect(inProgress.statusCode).toBe(409);
    expect(inProgress.json().code).toBe('idempotency.in_progress');
    await age('abandoned-1', '5 minutes', true);
    const retried = await api.post('/conversations', body, { 'idempotency-key': 'abandoned-1' });
    expect(retried.statusCode).toBe(201);
    expect(retried.headers['idempotent-replayed']).toBeUndefined();
    expect(await countFor('abandoned@example.test')).toBe(1);
  });

  it('forgets keys after 24 hours: the key can be used again, and the hourly purge deletes them', async () => {
    const body = conversation('expired@example.test');
    expect((await api.post('/conversations', body, { 'idempotency-key': 'old-1' })).statusCode).toBe(201);
    expect((await api.post('/conversations', body, { 'idempotency-key': 'old-1' })).headers['idempotent-replayed']).toBe('true');
    await age('old-1', '25 hours');
    const later = await api.post('/conversations', { ...body, subject: 'a day later' }, { 'idempotency-key': 'old-1' });
    expect(later.statusCode).toBe(201);
    expect(later.headers['idempotent-replayed']).toBeUndefined();

    await api.post('/conversations', conversation('purge@example.test'), { 'idempotency-key': 'purge-old' });
    await api.post('/conversations', conversation('purge2@example.test'), { 'idempotency-key': 'purge-new' });
    await age('purge-old', '2 days');
    await purgeIdempotencyKeys(rapport.pool)({}, {} as never);
    const keys = await withSystem(rapport.pool, async (tx) => (await tx.query<{ key: string }>("select key from idempotency_keys where key like 'purge-%'")).rows.map((r) => r.key));
    expect(keys).toEqual(['purge-new']);
  });
});
