import { createHash, createHmac } from 'node:crypto';
import { mkdtemp, stat } from 'node:fs/promises';
import net, { type AddressInfo, type Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type client, eventually, signIn, type TestServer, type TestWorkspace, startWithWorkspace } from '../../test/helpers.js';
import { loadConfig } from '../config.js';
import { withSystem } from '../db/tenancy.js';
import { loadFingerprintKey, purgeIdempotencyKeys } from './idempotency.js';

let rapport: TestServer;
let ws: TestWorkspace;
let api: ReturnType<typeof client>;

beforeAll(async () => ({ rapport, ws, api } = await startWithWorkspace()));
afterAll(async () => rapport?.stop());

const conversation = (email: string) => ({ customer: { email }, subject: 'idempotent', message: { body: 'hello' } });
const age = (key: string, interval: string, unanswered = false) =>
  withSystem(rapport.pool, (tx) =>
    tx.query(`update idempotency_keys set created_at = now() - $2::interval ${unanswered ? ', status_code = null, response = null' : ''} where key = $1`, [key, interval]),
  );
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

describe('Idempotency-Key and secrets (M6)', () => {
  type Row = { key: string; request_hash: string; status_code: number | null; response: unknown; content_type: string | null; replayable: boolean; whole: string };
  const row = async (key: string) => withSystem(rapport.pool, async (tx) => (await tx.query<Row>('select k.*, row_to_json(k)::text as whole from idempotency_keys k where key = $1', [key])).rows[0]);
  const tokensNamed = async (name: string) => (await api.get('/tokens')).json().items.filter((t: { name: string }) => t.name === name).length as number;

  async function session() {
    const { cookie, csrfToken } = await signIn(rapport, ws.owner.email, ws.owner.password);
    return (path: string, body: unknown, key: string) =>
      rapport.app.inject({
        method: 'POST',
        url: `/api/v1/workspaces/${ws.workspaceId}${path}`,
        payload: body as object,
        headers: { cookie, 'x-csrf-token': csrfToken, 'idempotency-key': key },
      });
  }

  it('never stores a created API token, nor a hash of the password, and answers a repeat with 409 not_replayable', async () => {
    const post = await session();
    const body = { name: 'idem-token', currentPassword: ws.owner.password };
    const created = await post('/tokens', body, 'token-1');
    expect(created.statusCode).toBe(201);
    const { token } = created.json();

    const stored = await row('token-1');
    expect(stored).toMatchObject({ status_code: 201, response: null, content_type: null, replayable: false });
    expect(stored.whole).not.toContain(token);
    expect(stored.whole).not.toContain(token.slice(-16));
    // Not the old unsalted SHA-256 of the body with the password, and not any hash of the password:
    // the fingerprint is the server-keyed HMAC of the body with the password blanked.
    const url = `/api/v1/workspaces/${ws.workspaceId}/tokens`;
    expect(stored.request_hash).not.toBe(
      createHash('sha256')
        .update(`POST ${url}\n${JSON.stringify(body)}`)
        .digest('hex'),
    );
    const key = await loadFingerprintKey(rapport.config);
    const blanked = createHmac('sha256', key)
      .update(`POST ${url}\n${JSON.stringify({ ...body, currentPassword: '[secret]' })}`)
      .digest('hex');
    expect(stored.request_hash).toBe(blanked);

    const again = await post('/tokens', body, 'token-1');
    expect(again.statusCode).toBe(409);
    expect(again.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(again.json().code).toBe('idempotency.not_replayable');
    expect(again.body).not.toContain(token);
    // Another body under the same key is still a different request.
    expect((await post('/tokens', { ...body, name: 'other' }, 'token-1')).json().code).toBe('idempotency.key_reused');
    expect(await tokensNamed('idem-token')).toBe(1);
  });

  it('releases the key of a refused secret-bearing request, so the corrected retry runs', async () => {
    const post = await session();
    const wrong = await post('/tokens', { name: 'retried-token', currentPassword: 'not my password at all' }, 'token-2');
    expect(wrong.statusCode).toBe(401);
    expect(await row('token-2')).toBeUndefined();
    const right = await post('/tokens', { name: 'retried-token', currentPassword: ws.owner.password }, 'token-2');
    expect(right.statusCode).toBe(201);
    expect(right.json().token).toEqual(expect.any(String));
    expect(await tokensNamed('retried-token')).toBe(1);
  });

  it('never stores an invitation link, from POST /invitations or POST /users; accepting one stores nothing', async () => {
    for (const [path, key, email] of [
      ['/invitations', 'invite-1', 'idem-invited@example.test'],
      ['/users', 'invite-2', 'idem-added@example.test'],
    ] as const) {
      const created = await api.post(path, { email, role: 'agent' }, { 'idempotency-key': key });
      expect(created.statusCode).toBe(201);
      const { token, acceptUrl } = created.json();
      const stored = await row(key);
      expect(stored).toMatchObject({ status_code: 201, response: null, replayable: false });
      expect(stored.whole).not.toContain(token);
      expect(stored.whole).not.toContain(acceptUrl);
      const again = await api.post(path, { email, role: 'agent' }, { 'idempotency-key': key });
      expect(again.statusCode).toBe(409);
      expect(again.json().code).toBe('idempotency.not_replayable');
    }
    const pending = (await api.get('/invitations')).json().items.map((i: { email: string }) => i.email);
    expect(pending.filter((e: string) => e.startsWith('idem-'))).toHaveLength(2);

    // Accepting is public (outside any workspace): no key is kept for it, whatever the header says.
    const { token } = (await api.post('/invitations', { email: 'idem-accepts@example.test', role: 'agent' })).json();
    const before = await withSystem(rapport.pool, async (tx) => (await tx.query<{ n: number }>('select count(*)::int as n from idempotency_keys')).rows[0].n);
    const accepted = await rapport.app.inject({
      method: 'POST',
      url: '/api/v1/invitations/accept',
      headers: { 'idempotency-key': 'accept-1' },
      payload: { token, name: 'Idem Accepts', password: 'four unrelated words together' },
    });
    expect(accepted.statusCode).toBe(200);
    expect(await row('accept-1')).toBeUndefined();
    expect(await withSystem(rapport.pool, async (tx) => (await tx.query<{ n: number }>('select count(*)::int as n from idempotency_keys')).rows[0].n)).toBe(before);
  });

  it('leaves the IMAP and SMTP passwords of a new inbox out of the fingerprint; its answer (secrets masked) replays', async () => {
    const server = { host: '127.0.0.1', tls: 'none', user: 'u' };
    const body = {
      name: 'Idem mail',
      channel: 'email',
      settings: { addresses: ['idem-box@example.test'], imap: { ...server, port: 143, password: 'imap-secret-pw' }, smtp: { ...server, port: 25, password: 'smtp-secret-pw' } },
    };
    const created = await api.post('/inboxes', body, { 'idempotency-key': 'inbox-1' });
    expect(created.statusCode).toBe(201);
    const stored = await row('inbox-1');
    expect(stored.whole).not.toContain('secret-pw');
    const key = await loadFingerprintKey(rapport.config);
    const blanked = { ...body, settings: { ...body.settings, imap: { ...body.settings.imap, password: '[secret]' }, smtp: { ...body.settings.smtp, password: '[secret]' } } };
    expect(stored.request_hash).toBe(
      createHmac('sha256', key)
        .update(`POST /api/v1/workspaces/${ws.workspaceId}/inboxes\n${JSON.stringify(blanked)}`)
        .digest('hex'),
    );
    const again = await api.post('/inboxes', body, { 'idempotency-key': 'inbox-1' });
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toEqual(created.json());
  });

  it('leaves the password of an SMTP or IMAP connection test out of the fingerprint, and runs a repeated test again', async () => {
    // A mail server that accepts and never answers: the test waits on it while its key is claimed.
    const sockets = new Set<Socket>();
    const silent = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as AddressInfo).port;
    try {
      const inbox = (await api.post('/inboxes', { name: 'Idem test', channel: 'email', settings: { addresses: ['idem-test@example.test'] } })).json();
      const fingerprintKey = await loadFingerprintKey(rapport.config);
      for (const [kind, body, blanked] of [
        [
          'smtp',
          { to: 'me@example.test', smtp: { host: '127.0.0.1', port, tls: 'none', user: 'u', password: 'smtp-test-secret' } },
          { to: 'me@example.test', smtp: { host: '127.0.0.1', port, tls: 'none', user: 'u', password: '[secret]' } },
        ],
        ['imap', { imap: { host: '127.0.0.1', port, tls: 'none', user: 'u', password: 'imap-test-secret' } }, { imap: { host: '127.0.0.1', port, tls: 'none', user: 'u', password: '[secret]' } }],
      ] as const) {
        const url = `/inboxes/${inbox.id}/email/${kind}-test`;
        const key = `${kind}-test-1`;
        const running = api.post(url, body, { 'idempotency-key': key });
        const claimed = await eventually(async () => row(key));
        expect(claimed.request_hash).toBe(
          createHmac('sha256', fingerprintKey)
            .update(`POST /api/v1/workspaces/${ws.workspaceId}${url}\n${JSON.stringify(blanked)}`)
            .digest('hex'),
        );
        await eventually(async () => sockets.size > 0);
        for (const socket of sockets) socket.destroy();
        sockets.clear();
        const failed = await running;
        expect(failed.statusCode).toBe(422);
        // A test is never answered from the store: the same key runs it again.
        const again = api.post(url, body, { 'idempotency-key': key });
        await eventually(async () => sockets.size > 0);
        for (const socket of sockets) socket.destroy();
        sockets.clear();
        const second = await again;
        expect(second.statusCode).toBe(422);
        expect(second.headers['idempotent-replayed']).toBeUndefined();
      }
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('keeps an ordinary answer replayable', async () => {
    const body = conversation('replayable@example.test');
    const first = await api.post('/conversations', body, { 'idempotency-key': 'plain-1' });
    const again = await api.post('/conversations', body, { 'idempotency-key': 'plain-1' });
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toEqual(first.json());
    expect(await row('plain-1')).toMatchObject({ status_code: 201, replayable: true });
  });

  it('says in the API docs which answers are not replayed, for every route that answers a secret', async () => {
    const spec = (await rapport.app.inject({ method: 'GET', url: '/api/openapi.json' })).json();
    const secretAnswers: string[] = [];
    // Response schemas are named components (src/http/openapi.ts).
    const named = (schema?: { $ref?: string; properties?: object }) => (schema?.$ref ? (spec.components.schemas[schema.$ref.split('/').pop()!] as { properties?: object }) : schema);
    for (const [path, ops] of Object.entries<Record<string, { description?: string; responses?: Record<string, { content?: Record<string, { schema?: { properties?: object } }> }> }>>(spec.paths)) {
      const op = ops.post;
      if (!op || !path.startsWith('/api/v1/workspaces/{workspaceId}')) continue;
      const fields = Object.entries(op.responses ?? {})
        .filter(([status]) => status.startsWith('2'))
        .flatMap(([, r]) => Object.values(r.content ?? {}).flatMap((c) => Object.keys(named(c.schema)?.properties ?? {})));
      if (!fields.some((f) => /token|secret|password|acceptUrl|apiKey/i.test(f))) continue;
      secretAnswers.push(path);
      expect(op.description, path).toContain('idempotency.not_replayable');
    }
    expect(secretAnswers).toEqual(expect.arrayContaining(['/api/v1/workspaces/{workspaceId}/tokens', '/api/v1/workspaces/{workspaceId}/invitations', '/api/v1/workspaces/{workspaceId}/users']));
  });
});

describe('the fingerprint key', () => {
  it('is made once per DATA_DIR and kept (mode 600), so fingerprints survive a restart; IDEMPOTENCY_SECRET replaces it', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'rapport-idem-'));
    const first = await loadFingerprintKey({ dataDir, idempotencySecret: undefined });
    expect(await loadFingerprintKey({ dataDir, idempotencySecret: undefined })).toEqual(first);
    expect((await stat(path.join(dataDir, 'idempotency-secret'))).mode & 0o777).toBe(0o600);
    const other = await loadFingerprintKey({ dataDir: await mkdtemp(path.join(os.tmpdir(), 'rapport-idem-')), idempotencySecret: undefined });
    expect(other).not.toEqual(first);
    const set = 'x'.repeat(40);
    expect(await loadFingerprintKey({ dataDir: '/nonexistent/never', idempotencySecret: set })).toEqual(await loadFingerprintKey({ dataDir, idempotencySecret: set }));
    await expect(loadFingerprintKey({ dataDir: '/dev/null/rapport', idempotencySecret: undefined })).rejects.toThrow(/make DATA_DIR writable or set IDEMPOTENCY_SECRET/);
    expect(() => loadConfig({ IDEMPOTENCY_SECRET: 'too short' })).toThrow(/IDEMPOTENCY_SECRET: must be at least 32 characters/);
  });
});
