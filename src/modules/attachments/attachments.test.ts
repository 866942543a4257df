import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, createTestWorkspace, eventually, startTestServer, tokenFor, type TestServer, type TestWorkspace } from '../../../test/helpers.js';
import { withSystem } from '../../db/tenancy.js';
import { enqueue } from '../../jobs/queue.js';
import { fixedClock } from '../../lib/clock.js';
import { coreModules, modules } from '../index.js';
import { createEmailModule } from '../channels/email/email.module.js';
import { createEmailInbox, sendMail, smtpPortOf, startSink, systemQuery } from '../channels/email/email.testing.js';
import { COLLECT_TASK, createAttachmentsModule } from './attachments.module.js';
import { attachmentOwnersOf } from './attachments.owners.js';
import { collectUnused, MESSAGE_OWNER, sha256Of } from './attachments.service.js';

const MAX_FILE = 64 * 1024;
const LIMITS = { maxFileBytes: MAX_FILE, maxPerMessage: 2, maxMessageBytes: 50_000, maxPendingUploads: 20, uploadTtlHours: 24 };
const HOUR = 3_600_000;
const clock = fixedClock('2026-12-01T10:00:00Z');
let rapport: TestServer;
let a: TestWorkspace;
let b: TestWorkspace;
let agent1: string;
let agent2: string;
let sink: Awaited<ReturnType<typeof startSink>>;
let seq = 0;

beforeAll(async () => {
  sink = await startSink();
  rapport = await startTestServer({
    clock,
    modules: modules.map((m) => (m.name === 'attachments' ? createAttachmentsModule(LIMITS) : m.name === 'email' ? createEmailModule({ smtpTimeoutMs: 2000 }, LIMITS) : m)),
  });
  a = await createTestWorkspace(rapport);
  b = await createTestWorkspace(rapport);
  agent1 = await tokenFor(rapport, a, 'agent');
  agent2 = await tokenFor(rapport, a, 'agent');
  await createEmailInbox(rapport, a, { addresses: ['core@a.test'], smtp: { host: '127.0.0.1', port: sink.port, tls: 'none' } });
});
afterAll(async () => {
  await rapport?.stop();
  await sink?.close();
});

function upload(token: string, workspaceId: string, name: string, content: Buffer | string, contentType = 'application/octet-stream') {
  return rapport.app.inject({
    method: 'POST',
    url: `/api/v1/workspaces/${workspaceId}/uploads?name=${encodeURIComponent(name)}`,
    headers: { authorization: `Bearer ${token}`, 'content-type': contentType },
    payload: content,
  });
}
const uploadId = async (token: string, workspaceId: string, name: string, content: Buffer | string, contentType?: string) => {
  const res = await upload(token, workspaceId, name, content, contentType);
  expect(res.statusCode).toBe(201);
  return res.json().id as string;
};
const download = (token: string, workspaceId: string, id: string, query = '') => client(rapport, token, workspaceId).get(`/attachments/${id}${query}`);

/** A customer mails A's inbox with files; returns the conversation message it became. */
async function inboundWithFiles(files: { filename: string; content: Buffer | string; contentType?: string }[]) {
  const info = await sendMail(smtpPortOf(rapport), { from: `c${++seq}@customer.test`, to: 'core@a.test', subject: `files ${seq}`, text: 'attached', attachments: files });
  const rfc = info.messageId.slice(1, -1).toLowerCase();
  return eventually(
    async () => (await systemQuery<{ message_id: string; conversation_id: string }>(rapport, 'select message_id, conversation_id from email_messages where rfc_message_id = $1', [rfc]))[0],
  );
}

const blobCount = async (workspaceId: string, sha256Hex?: string) =>
  (await systemQuery<{ n: number }>(rapport, `select count(*)::int as n from blobs where workspace_id = $1 and ($2::text is null or sha256 = decode($2, 'hex'))`, [workspaceId, sha256Hex ?? null]))[0]
    .n;
const attachmentExists = async (id: string) => (await systemQuery(rapport, 'select 1 from attachments where id = $1', [id])).length === 1;

describe('content-addressed storage', () => {
  it('stores the same bytes once per workspace, however many files name them, and never shares them across workspaces', async () => {
    const bytes = randomBytes(5000);
    const hex = (await import('node:crypto')).createHash('sha256').update(bytes).digest('hex');
    const first = await uploadId(agent1, a.workspaceId, 'report.pdf', bytes, 'application/pdf');
    const second = await uploadId(agent2, a.workspaceId, 'copy of report.pdf', bytes, 'application/pdf');
    const inB = await uploadId(b.token, b.workspaceId, 'report.pdf', bytes, 'application/pdf');
    expect(new Set([first, second, inB]).size).toBe(3);
    expect(await blobCount(a.workspaceId, hex)).toBe(1);
    expect(await blobCount(b.workspaceId, hex)).toBe(1);
    // Each download is the same bytes under the name it was uploaded with.
    const dl = await download(agent2, a.workspaceId, second);
    expect(Buffer.compare(dl.rawPayload, bytes)).toBe(0);
    expect(dl.headers['content-disposition']).toMatch(/^attachment; filename="copy of report.pdf"/);
  });
});

describe('limits', () => {
  it('refuses a file over the per-file limit with 413 problem+json before storing it', async () => {
    const before = await blobCount(a.workspaceId);
    const res = await upload(agent1, a.workspaceId, 'big.bin', Buffer.alloc(MAX_FILE + 1));
    expect(res.statusCode).toBe(413);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ status: 413, code: 'attachments.file_too_large' });
    expect(await blobCount(a.workspaceId)).toBe(before);
    expect((await upload(agent1, a.workspaceId, 'exact.bin', randomBytes(MAX_FILE))).statusCode).toBe(201);
  });

  it('caps the uploads one principal holds unsent (429), counting each person apart', async () => {
    const quota = await tokenFor(rapport, a, 'agent');
    for (let i = 0; i < LIMITS.maxPendingUploads; i++) await uploadId(quota, a.workspaceId, `q${i}.txt`, `quota ${i}`);
    const over = await upload(quota, a.workspaceId, 'one-more.txt', 'x');
    expect(over.statusCode).toBe(429);
    expect(over.json().code).toBe('attachments.too_many_pending');
    expect((await upload(agent2, a.workspaceId, 'someone-else.txt', 'x')).statusCode).toBe(201);
  });

  it('refuses too many files, or too many bytes, for one message with coded 422s, and sends nothing', async () => {
    const { conversation_id: conversationId } = await inboundWithFiles([]);
    const api = client(rapport, agent1, a.workspaceId);
    const three = [await uploadId(agent1, a.workspaceId, '1.txt', 'one'), await uploadId(agent1, a.workspaceId, '2.txt', 'two'), await uploadId(agent1, a.workspaceId, '3.txt', 'three')];
    const tooMany = await api.post(`/conversations/${conversationId}/email-replies`, { body: 'three files', attachmentIds: three });
    expect([tooMany.statusCode, tooMany.json().code]).toEqual([422, 'attachments.too_many']);
    expect(tooMany.headers['content-type']).toMatch(/^application\/problem\+json/);
    const heavy = [await uploadId(agent1, a.workspaceId, 'h1.bin', randomBytes(30_000)), await uploadId(agent1, a.workspaceId, 'h2.bin', randomBytes(30_000))];
    const tooBig = await api.post(`/conversations/${conversationId}/email-replies`, { body: 'heavy files', attachmentIds: heavy });
    expect([tooBig.statusCode, tooBig.json().code]).toEqual([422, 'attachments.message_too_large']);
    // Nothing was attached: the uploads are still the agent's to send.
    const ok = await api.post(`/conversations/${conversationId}/email-replies`, { body: 'two files', attachmentIds: three.slice(0, 2) });
    expect(ok.statusCode).toBe(201);
    const listed = (await api.get(`/messages/${ok.json().messageId}/attachments`)).json().items;
    expect(listed.map((f: { name: string }) => f.name)).toEqual(['1.txt', '2.txt']);
  });
});

describe('a message’s files', () => {
  it('lists an inbound email’s files and an agent reply’s uploads on the message, in order', async () => {
    const { message_id: messageId, conversation_id: conversationId } = await inboundWithFiles([
      { filename: 'photo.png', content: Buffer.from('89504e470d0a1a0a0000', 'hex'), contentType: 'image/png' },
      { filename: 'notes.txt', content: 'notes', contentType: 'text/plain' },
    ]);
    const api = client(rapport, agent1, a.workspaceId);
    const inbound = (await api.get(`/messages/${messageId}/attachments`)).json().items;
    expect(inbound.map((f: { name: string; contentType: string }) => [f.name, f.contentType])).toEqual([
      ['photo.png', 'image/png'],
      ['notes.txt', 'text/plain'],
    ]);
    // The same ids the message metadata names, downloadable through the one route.
    const meta = (await api.get(`/conversations/${conversationId}/messages`)).json().items.find((m: { id: string }) => m.id === messageId).metadata.email.attachments;
    expect(meta.map((m: { id: string }) => m.id)).toEqual(inbound.map((f: { id: string }) => f.id));
    expect((await download(agent2, a.workspaceId, inbound[1].id)).body).toBe('notes');

    const up = await uploadId(agent1, a.workspaceId, 'answer.txt', 'the answer', 'text/plain');
    const sent = await api.post(`/conversations/${conversationId}/email-replies`, { body: 'see attached', attachmentIds: [up] });
    expect(sent.statusCode).toBe(201);
    expect((await api.get(`/messages/${sent.json().messageId}/attachments`)).json().items).toEqual([{ id: up, name: 'answer.txt', size: 10, contentType: 'text/plain' }]);
    await eventually(async () => sink.received.find((r) => r.raw.includes('see attached')), 15_000);
  });
});

describe('workspace checks (SECURITY T1, F3)', () => {
  it('answers another workspace’s file, another person’s unsent upload and a missing id with the same 404', async () => {
    const { message_id: messageId } = await inboundWithFiles([{ filename: 'secret.txt', content: 'a secret of A' }]);
    const [file] = (await client(rapport, agent1, a.workspaceId).get(`/messages/${messageId}/attachments`)).json().items;
    const missing = await download(b.token, b.workspaceId, randomUUID());
    const foreign = await download(b.token, b.workspaceId, file.id);
    expect(foreign.statusCode).toBe(404);
    expect(foreign.body).toBe(missing.body);
    expect(foreign.json().code).toBe('attachments.not_found');
    // B cannot reach A's workspace path either, nor list A's message.
    expect([403, 404]).toContain((await client(rapport, b.token, b.workspaceId).get(`/api/v1/workspaces/${a.workspaceId}/attachments/${file.id}`)).statusCode);
    const list = await client(rapport, b.token, b.workspaceId).get(`/messages/${messageId}/attachments`);
    expect([list.statusCode, list.json().code]).toEqual([404, 'messages.not_found']);
    // An unsent upload is its uploader's alone; once sent it is the workspace's.
    const draft = await uploadId(agent1, a.workspaceId, 'draft.txt', 'draft');
    const otherPerson = await download(agent2, a.workspaceId, draft);
    expect(otherPerson.statusCode).toBe(404);
    expect(otherPerson.body).toBe((await download(agent2, a.workspaceId, randomUUID())).body);
    expect((await download(agent1, a.workspaceId, draft)).statusCode).toBe(200);
    // Without a session nothing is served.
    const anonymous = await rapport.app.inject({ method: 'GET', url: `/api/v1/workspaces/${a.workspaceId}/attachments/${file.id}` });
    expect([401, 404]).toContain(anonymous.statusCode);
    // A client viewer cannot upload.
    const viewer = await tokenFor(rapport, a, 'client_viewer');
    expect((await upload(viewer, a.workspaceId, 'x.txt', 'x')).statusCode).toBe(403);
  });
});

describe('privacy by role', () => {
  it('never shows a client viewer an internal note’s files, nor that the note exists', async () => {
    const { conversation_id: conversationId, message_id: inboundId } = await inboundWithFiles([{ filename: 'visible.txt', content: 'for the client too' }]);
    const agent = client(rapport, agent1, a.workspaceId);
    const note = (await agent.post(`/conversations/${conversationId}/messages`, { type: 'note', body: 'internal only' })).json();
    const viewer = client(rapport, await tokenFor(rapport, a, 'client_viewer'), a.workspaceId);
    expect((await agent.get(`/messages/${note.id}/attachments`)).json()).toEqual({ items: [] });
    const hidden = await viewer.get(`/messages/${note.id}/attachments`);
    expect(hidden.statusCode).toBe(404);
    expect(hidden.body).toBe((await viewer.get(`/messages/${randomUUID()}/attachments`)).body);
    // A customer-visible message's files stay readable to the viewer.
    const [file] = (await viewer.get(`/messages/${inboundId}/attachments`)).json().items;
    expect((await viewer.get(`/attachments/${file.id}`)).body).toBe('for the client too');
  });
});

describe('download headers (SECURITY F1, F2)', () => {
  const png = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), randomBytes(64)]);

  it('serves HTML, SVG and scripts as sandboxed, unsniffed downloads with an RFC 6266 name', async () => {
    const cases = [
      { name: 'x.html', content: '<script>alert(1)</script>', type: 'text/html' },
      { name: 'x.svg', content: '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', type: 'image/svg+xml' },
      { name: '../../etc/passwd', content: 'root', type: 'text/plain' },
      { name: '<img src=x onerror=alert(1)>.png', content: 'not really a png', type: 'image/png' },
      { name: 'invoice\u202egpj.exe', content: 'rtl', type: 'application/octet-stream' },
    ];
    for (const c of cases) {
      const id = await uploadId(agent1, a.workspaceId, c.name, c.content, c.type);
      // Even asking for inline: none of these is a raster image whose bytes say so.
      const res = await download(agent1, a.workspaceId, id, '?inline=true');
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('application/octet-stream');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['content-security-policy']).toBe("sandbox; default-src 'none'");
      expect(res.headers['cache-control']).toBe('private, no-store');
      const disposition = String(res.headers['content-disposition']);
      expect(disposition).toMatch(/^attachment; filename="[^"\\/<>]*"; filename\*=UTF-8''[A-Za-z0-9%._~!-]+$/);
      expect(disposition).not.toMatch(/[\u0000-\u001f\u202e]/);
    }
    // A NUL in a name is refused at the edge, never stored to be cut short later.
    expect((await upload(agent1, a.workspaceId, 'a.txt\u0000.exe', 'nul')).statusCode).toBe(422);
  });

  it('shows a real PNG inline only when asked, still sandboxed and unsniffed', async () => {
    const id = await uploadId(agent1, a.workspaceId, 'photo.png', png, 'image/png');
    const inline = await download(agent1, a.workspaceId, id, '?inline=true');
    expect(inline.headers['content-type']).toBe('image/png');
    expect(inline.headers['content-disposition']).toMatch(/^inline; filename="photo.png"/);
    expect(inline.headers['x-content-type-options']).toBe('nosniff');
    expect(inline.headers['content-security-policy']).toMatch(/^sandbox/);
    expect(Buffer.compare(inline.rawPayload, png)).toBe(0);
    expect((await download(agent1, a.workspaceId, id)).headers['content-disposition']).toMatch(/^attachment;/);
    // The email channel's older path keeps answering as a download, whatever the file.
    const legacy = await client(rapport, agent1, a.workspaceId).get(`/email/attachments/${id}`);
    expect([legacy.statusCode, legacy.headers['content-type']]).toEqual([200, 'application/octet-stream']);
  });
});

describe('the collector', () => {
  it('removes uploads never attached after their lifetime and blobs nothing references, and keeps what is in use', async () => {
    const start = clock.now();
    const shared = randomBytes(2000);
    const { message_id: messageId } = await inboundWithFiles([{ filename: 'kept.bin', content: shared }]);
    const [kept] = (await client(rapport, agent1, a.workspaceId).get(`/messages/${messageId}/attachments`)).json().items;
    const stale = await uploadId(agent2, a.workspaceId, 'stale.bin', randomBytes(3000));
    const staleShared = await uploadId(agent2, a.workspaceId, 'stale-copy.bin', shared);
    const staleHash = (await systemQuery<{ h: string }>(rapport, "select encode(sha256, 'hex') as h from attachments where id = $1", [stale]))[0].h;

    // Within its lifetime an unsent upload stays.
    expect(await collectUnused({ pool: rapport.pool, clock: fixedClock(new Date(start.getTime() + 23 * HOUR)), uploadTtlMs: 24 * HOUR })).toMatchObject({ uploads: 0 });
    expect(await attachmentExists(stale)).toBe(true);

    clock.set(new Date(start.getTime() + 25 * HOUR));
    const fresh = await uploadId(agent2, a.workspaceId, 'fresh.bin', randomBytes(1000));
    const removed = await collectUnused({ pool: rapport.pool, clock, uploadTtlMs: 24 * HOUR });
    expect(removed.uploads).toBeGreaterThanOrEqual(2);
    expect(removed.blobs).toBeGreaterThanOrEqual(1);
    expect(await attachmentExists(stale)).toBe(false);
    expect(await attachmentExists(staleShared)).toBe(false);
    expect(await blobCount(a.workspaceId, staleHash)).toBe(0);
    // The attached file, its bytes (shared with the removed upload) and the fresh upload stay.
    expect(await attachmentExists(fresh)).toBe(true);
    expect(Buffer.compare((await download(agent1, a.workspaceId, kept.id)).rawPayload, shared)).toBe(0);
    // So does every email's raw source, which its email row references.
    const rawMissing = await systemQuery<{ n: number }>(
      rapport,
      `select count(*)::int as n from email_messages e where e.raw_sha256 is not null and not exists (select 1 from blobs b where b.workspace_id = e.workspace_id and b.sha256 = e.raw_sha256)`,
    );
    expect(rawMissing[0].n).toBe(0);
  });

  it('runs as the hourly worker task, on the server’s clock', async () => {
    const old = await uploadId(agent2, a.workspaceId, 'old.bin', randomBytes(100));
    clock.advance(25 * HOUR);
    await withSystem(rapport.pool, (tx) => enqueue(tx, COLLECT_TASK, {}));
    await eventually(async () => !(await attachmentExists(old)));
  });
});

describe('files whose owner is gone', () => {
  it('are removed by one collector run with their now unreferenced blobs, asked of the owning modules; living owners and undeclared kinds keep theirs', async () => {
    const goneBytes = randomBytes(2500);
    const keptBytes = randomBytes(2500);
    const gone = await inboundWithFiles([{ filename: 'gone.bin', content: goneBytes }]);
    const kept = await inboundWithFiles([{ filename: 'kept.bin', content: keptBytes }]);
    const filesOf = async (messageId: string) =>
      (await systemQuery<{ id: string }>(rapport, 'select id from attachments where owner_kind = $1 and owner_id = $2', [MESSAGE_OWNER, messageId])).map((r) => r.id);
    const [goneFile] = await filesOf(gone.message_id);
    const [keptFile] = await filesOf(kept.message_id);
    expect(goneFile && keptFile).toBeTruthy();
    // A kind no running module declares (a plug-in since removed): never collected, only reported.
    const strayOwner = randomUUID();
    await systemQuery(rapport, 'insert into blobs (workspace_id, sha256, size, content, created_at, touched_at) values ($1, $2, 3, $3, $4, $4)', [
      a.workspaceId,
      sha256Of(Buffer.from('abc')),
      Buffer.from('abc'),
      clock.now(),
    ]);
    const [stray] = await systemQuery<{ id: string }>(
      rapport,
      `insert into attachments (workspace_id, sha256, filename, content_type, size, owner_kind, owner_id, position, created_at)
       values ($1, $2, 'stray.txt', 'text/plain', 3, 'removed_plugin', $3, 0, $4) returning id`,
      [a.workspaceId, sha256Of(Buffer.from('abc')), strayOwner, clock.now()],
    );

    // The message row goes behind the module's back (no FK from attachments can follow it).
    const deleted = await systemQuery(rapport, 'delete from messages where workspace_id = $1 and id = $2 returning id', [a.workspaceId, gone.message_id]);
    expect(deleted).toHaveLength(1);
    expect(await attachmentExists(goneFile)).toBe(true);

    const later = fixedClock(new Date(clock.now().getTime() + 2 * HOUR));
    const removed = await collectUnused({ pool: rapport.pool, clock: later, uploadTtlMs: 1000 * HOUR, owners: attachmentOwnersOf([...coreModules, ...modules]) });
    expect(removed.orphans).toBeGreaterThanOrEqual(1);
    expect(removed.unownedKinds).toEqual(['removed_plugin']);
    expect(await attachmentExists(goneFile)).toBe(false);
    expect(await blobCount(a.workspaceId, sha256Of(goneBytes).toString('hex'))).toBe(0);
    // The living message keeps its file and bytes; the undeclared kind keeps its file.
    expect(await attachmentExists(keptFile)).toBe(true);
    expect(Buffer.compare((await download(agent1, a.workspaceId, keptFile)).rawPayload, keptBytes)).toBe(0);
    expect(await attachmentExists(stray.id)).toBe(true);
    // Every file left has an owner its module still finds (or an undeclared kind): one run took them all.
    const again = await collectUnused({ pool: rapport.pool, clock: later, uploadTtlMs: 1000 * HOUR, owners: attachmentOwnersOf([...coreModules, ...modules]) });
    expect(again.orphans).toBe(0);
  });
});
