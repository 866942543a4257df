import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, createTestWorkspace, eventually, startTestServer, tokenFor, type TestServer, type TestWorkspace } from '../../../../test/helpers.js';
import { modules } from '../../index.js';
import { createEmailModule } from './email.module.js';
import { createEmailInbox, sendRaw, smtpPortOf, startSink, systemQuery } from './email.testing.js';

const LIMIT = 256 * 1024;
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
    modules: modules.map((m) => (m.name === 'email' ? createEmailModule({ smtpTimeoutMs: 2000, maxUploadBytes: LIMIT }) : m)),
  });
  a = await createTestWorkspace(rapport);
  b = await createTestWorkspace(rapport);
  agent1 = await tokenFor(rapport, a, 'agent');
  agent2 = await tokenFor(rapport, a, 'agent');
  await createEmailInbox(rapport, a, { addresses: ['files@a.test'], smtp: { host: '127.0.0.1', port: sink.port, tls: 'none' } });
  await createEmailInbox(rapport, b, { addresses: ['files@b.test'], smtp: { host: '127.0.0.1', port: sink.port, tls: 'none' } });
});
afterAll(async () => {
  await rapport?.stop();
  await sink?.close();
});

function upload(token: string, workspaceId: string, name: string | null, content: Buffer | string, contentType = 'application/octet-stream') {
  return rapport.app.inject({
    method: 'POST',
    url: `/api/v1/workspaces/${workspaceId}/email/uploads${name === null ? '' : `?name=${encodeURIComponent(name)}`}`,
    headers: { authorization: `Bearer ${token}`, 'content-type': contentType },
    payload: content,
  });
}

/** A customer writes to A's inbox; returns the conversation id. */
async function inbound(from = `cust${++seq}@customer.test`) {
  const id = `att${++seq}.${Date.now()}@customer.test`;
  await sendRaw(smtpPortOf(rapport), `From: ${from}\r\nTo: files@a.test\r\nSubject: Files ${seq}\r\nMessage-ID: <${id}>\r\n\r\nSend me the files\r\n`, { from, to: ['files@a.test'] });
  return eventually(async () => (await systemQuery<{ conversation_id: string }>(rapport, 'select conversation_id from email_messages where rfc_message_id = $1', [id]))[0]?.conversation_id);
}

const messageCount = async (conversationId: string) => (await systemQuery<{ n: number }>(rapport, 'select count(*)::int as n from messages where conversation_id = $1', [conversationId]))[0].n;

describe('outbound attachments', () => {
  it('sends uploaded files with a reply: the customer gets their bytes and names, the message lists them, and they download', async () => {
    const conversationId = await inbound('ann@customer.test');
    const pdf = randomBytes(40_000);
    const up1 = await upload(agent1, a.workspaceId, 'Quote 2026.pdf', pdf, 'application/pdf');
    expect(up1.statusCode).toBe(201);
    expect(up1.json()).toEqual({ id: expect.any(String), name: 'Quote 2026.pdf', size: 40_000, contentType: 'application/pdf' });
    // A JSON file stays bytes (no JSON parsing on this route); the name keeps its accents.
    const up2 = await upload(agent1, a.workspaceId, 'données ü.json', '{"not":"parsed"}', 'application/json; charset=utf-8');
    expect(up2.statusCode).toBe(201);
    expect(up2.json()).toMatchObject({ name: 'données ü.json', size: 16, contentType: 'application/json' });
    // A nonsense type is stored as application/octet-stream.
    const up3 = await upload(agent1, a.workspaceId, 'x.bin', 'abc', 'nonsense');
    expect(up3.json().contentType).toBe('application/octet-stream');

    const api = client(rapport, agent1, a.workspaceId);
    const res = await api.post(`/conversations/${conversationId}/email-replies`, { body: 'Here are the files you asked for', cc: ['bo@customer.test'], attachmentIds: [up1.json().id, up2.json().id] });
    expect(res.statusCode).toBe(201);
    const messageId = res.json().messageId;

    const got = await eventually(async () => sink.received.find((r) => r.raw.includes('Here are the files you asked for')), 15_000);
    expect(got.to.sort()).toEqual(['ann@customer.test', 'bo@customer.test']);
    const mail = await simpleParser(got.raw);
    expect(mail.attachments.map((x) => [x.filename, x.contentType, x.contentDisposition])).toEqual([
      ['Quote 2026.pdf', 'application/pdf', 'attachment'],
      ['données ü.json', 'application/json', 'attachment'],
    ]);
    expect(Buffer.compare(mail.attachments[0].content, pdf)).toBe(0);
    expect(mail.attachments[1].content.toString()).toBe('{"not":"parsed"}');

    const m = await eventually(async () => {
      const items = (await api.get(`/conversations/${conversationId}/messages`)).json().items;
      const out = items.find((i: { id: string }) => i.id === messageId);
      return out?.metadata.delivery?.status === 'sent' ? out : null;
    }, 15_000);
    expect(m.metadata.email.attachments).toEqual([
      { id: up1.json().id, name: 'Quote 2026.pdf', size: 40_000, contentType: 'application/pdf', inline: false },
      { id: up2.json().id, name: 'données ü.json', size: 16, contentType: 'application/json', inline: false },
    ]);

    // Once sent, anyone in the workspace downloads it like an inbound attachment; another workspace cannot.
    const dl = await client(rapport, agent2, a.workspaceId).get(`/email/attachments/${up1.json().id}`);
    expect(dl.statusCode).toBe(200);
    expect(Buffer.compare(dl.rawPayload, pdf)).toBe(0);
    expect(dl.headers['content-disposition']).toMatch(/^attachment; filename="Quote 2026.pdf"/);
    expect(dl.headers['x-content-type-options']).toBe('nosniff');
    expect((await client(rapport, b.token, b.workspaceId).get(`/email/attachments/${up1.json().id}`)).statusCode).toBe(404);

    // An upload is sent once.
    const again = await api.post(`/conversations/${conversationId}/email-replies`, { body: 'Once more', attachmentIds: [up1.json().id] });
    expect(again.statusCode).toBe(404);
    expect(again.json().code).toBe('email.attachment_not_found');
  });

  it('answers one 404 for an upload of another person, another workspace, or none at all (F3)', async () => {
    const conversationId = await inbound();
    const before = await messageCount(conversationId);
    const mine = (await upload(agent1, a.workspaceId, 'mine.txt', 'agent one', 'text/plain')).json().id as string;
    const theirs = (await upload(b.token, b.workspaceId, 'theirs.txt', 'workspace b', 'text/plain')).json().id as string;

    const reply = (token: string, ids: string[]) => client(rapport, token, a.workspaceId).post(`/conversations/${conversationId}/email-replies`, { body: 'x', attachmentIds: ids });
    const otherUser = await reply(agent2, [mine]);
    const otherWorkspace = await reply(agent1, [theirs]);
    const unknown = await reply(agent1, [randomUUID()]);
    const mixed = await reply(agent1, [mine, theirs]);
    for (const res of [otherUser, otherWorkspace, unknown, mixed]) {
      expect(res.statusCode).toBe(404);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
    expect(otherWorkspace.body).toBe(unknown.body);
    expect(otherUser.body).toBe(unknown.body);
    expect(unknown.json().code).toBe('email.attachment_not_found');
    // Nothing was written by the refused replies, and the upload is still usable by its owner.
    expect(await messageCount(conversationId)).toBe(before);
    expect((await client(rapport, agent2, a.workspaceId).get(`/email/attachments/${mine}`)).statusCode).toBe(404);
    expect((await client(rapport, agent1, a.workspaceId).get(`/email/attachments/${mine}`)).statusCode).toBe(200);
    expect((await reply(agent1, [mine])).statusCode).toBe(201);
    // More than ten is a validation error.
    const many = await reply(
      agent1,
      Array.from({ length: 11 }, () => randomUUID()),
    );
    expect(many.statusCode).toBe(422);
  });

  it('refuses an upload over the limit with 413 problem+json, before reading its body (F4)', async () => {
    const countUploads = async () => (await systemQuery<{ n: number }>(rapport, 'select count(*)::int as n from attachments where uploader is not null'))[0].n;
    const before = await countUploads();
    const big = await upload(agent1, a.workspaceId, 'big.bin', Buffer.alloc(LIMIT + 1));
    expect(big.statusCode).toBe(413);
    expect(big.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(big.json()).toMatchObject({ status: 413, code: 'email.upload_too_large' });
    expect((await upload(agent1, a.workspaceId, 'exact.bin', Buffer.alloc(LIMIT))).statusCode).toBe(201);

    // Over a real socket: a 2 GB Content-Length is answered at once, after a few bytes only.
    const { port } = new URL(rapport.url);
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port: Number(port),
          method: 'POST',
          path: `/api/v1/workspaces/${a.workspaceId}/email/uploads?name=huge.iso`,
          headers: { authorization: `Bearer ${agent1}`, 'content-type': 'application/octet-stream', 'content-length': String(2 * 1024 ** 3) },
        },
        (res) => {
          let body = '';
          res.on('data', (c) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.write(Buffer.alloc(1024));
      setTimeout(() => reject(new Error('no early answer')), 5000).unref();
    });
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body).code).toBe('email.upload_too_large');
    expect(await countUploads()).toBe(before + 1);
  });

  it('requires a file name of at most 255 characters, and the agent role', async () => {
    expect((await upload(agent1, a.workspaceId, null, 'x')).statusCode).toBe(422);
    expect((await upload(agent1, a.workspaceId, 'n'.repeat(256), 'x')).statusCode).toBe(422);
    const blank = await upload(agent1, a.workspaceId, '\u202e\u0007 ', 'x');
    expect(blank.statusCode).toBe(422);
    expect(blank.json().code).toBe('email.invalid_upload_name');
    // A right-to-left override cannot disguise the extension.
    expect((await upload(agent1, a.workspaceId, 'invoice\u202egpj.exe', 'x')).json().name).toBe('invoicegpj.exe');
    const viewer = await tokenFor(rapport, a, 'client_viewer');
    expect((await upload(viewer, a.workspaceId, 'x.txt', 'x')).statusCode).toBe(403);
    expect((await upload(b.token, a.workspaceId, 'x.txt', 'x')).statusCode).toBe(404);
  });
});

describe('an email reply written from a macro', () => {
  it('applies the macro’s actions after sending, and refuses an unknown macro before anything is sent', async () => {
    const admin = client(rapport, a.token, a.workspaceId);
    const macro = (await admin.post('/macros', { name: 'Refund sent', body: 'Your refund is on its way.', actions: { status: 'pending', priority: 'high', addTags: ['refund'] } })).json();
    const conversationId = await inbound('mac@customer.test');
    const api = client(rapport, agent1, a.workspaceId);
    const before = await messageCount(conversationId);

    const unknown = await api.post(`/conversations/${conversationId}/email-replies`, { body: 'x', cc: ['cc@partner.test'], macroId: randomUUID() });
    expect([unknown.statusCode, unknown.json().code]).toEqual([404, 'macros.not_found']);
    const foreign = (await client(rapport, b.token, b.workspaceId).post('/macros', { name: 'B only', body: 'b', actions: { status: 'resolved' } })).json();
    expect((await api.post(`/conversations/${conversationId}/email-replies`, { body: 'x', macroId: foreign.id })).statusCode).toBe(404);
    expect(await messageCount(conversationId)).toBe(before);

    const sent = await api.post(`/conversations/${conversationId}/email-replies`, { body: 'Your refund is on its way, Mac.', cc: ['cc@partner.test'], macroId: macro.id });
    expect(sent.statusCode).toBe(201);
    expect((await api.get(`/conversations/${conversationId}`)).json()).toMatchObject({ status: 'pending', priority: 'high', tags: ['refund'] });
    const mail = await eventually(async () => sink.received.find((m) => m.raw.includes('Your refund is on its way, Mac.')));
    expect(mail.to).toContain('cc@partner.test');
  });

  it('is one transaction: a macro action that fails rolls back the reply, its Cc, its files and its events', async () => {
    const admin = client(rapport, a.token, a.workspaceId);
    // Tags are the last action: 19 on the conversation plus the macro's 2 new ones pass the limit of 20.
    const macro = (await admin.post('/macros', { name: 'Too many tags', body: 'x', actions: { status: 'pending', addTags: ['late1', 'late2'] } })).json();
    const conversationId = await inbound('atomic@customer.test');
    const tags = Array.from({ length: 19 }, (_, i) => `t${i}`);
    expect((await admin.patch(`/conversations/${conversationId}`, { tags })).statusCode).toBe(200);
    const api = client(rapport, agent1, a.workspaceId);
    const file = (await upload(agent1, a.workspaceId, 'terms.txt', 'the terms')).json();
    const state = async () => ({
      messages: await messageCount(conversationId),
      participants: (await systemQuery<{ address: string }>(rapport, 'select address from email_participants where conversation_id = $1 order by address', [conversationId])).map((r) => r.address),
      events: (await systemQuery<{ type: string }>(rapport, 'select type from events where conversation_id = $1 order by id', [conversationId])).map((r) => r.type),
    });
    const before = await state();

    const failed = await api.post(`/conversations/${conversationId}/email-replies`, { body: 'Rolled back.', cc: ['rollback@partner.test'], attachmentIds: [file.id], macroId: macro.id });
    expect([failed.statusCode, failed.json().code]).toEqual([422, 'conversations.too_many_tags']);
    expect(await state()).toEqual(before);
    expect((await api.get(`/conversations/${conversationId}`)).json()).toMatchObject({ status: 'open', tags: [...tags].sort() });

    // The upload is still the agent's own, unsent: the same reply without the macro takes it.
    const sent = await api.post(`/conversations/${conversationId}/email-replies`, { body: 'Without the macro.', cc: ['rollback@partner.test'], attachmentIds: [file.id] });
    expect(sent.statusCode).toBe(201);
    const mail = await eventually(async () => sink.received.find((m) => m.raw.includes('Without the macro.')));
    expect(mail.raw).toContain('terms.txt');
    expect(sink.received.some((m) => m.raw.includes('Rolled back.'))).toBe(false);
  });
});
