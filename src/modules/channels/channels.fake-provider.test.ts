import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Type } from 'typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, eventually, startTestServer, createTestWorkspace, type TestServer, type TestWorkspace } from '../../../test/helpers.js';
import { modules } from '../index.js';
import { channelSendTask, sweepStaleDeliveries } from './channels.outbound.js';
import { systemQuery } from './email/email.testing.js';
import { ChannelSendError, type ChannelDefinition, type WebhookEvent } from './channels.registry.js';
import { verifyHmacSha256 } from './channels.webhooks.js';

/**
 * A second channel that exists only in this file, to show that the channel core (registry, outbound
 * job, webhook route, ingest path) carries a channel it has never heard of.
 *
 * The "pager" provider's protocol (a local HTTP server below):
 * - POST {baseUrl}/messages with `Authorization: Bearer {apiKey}` and JSON { to, text, idempotencyKey }
 *   answers 200 { id } (the same id for the same idempotencyKey), or 503 while it is down for `to`;
 * - it calls Rapport's webhook with a JSON body, `X-Pager-Timestamp: <unix seconds>` and
 *   `X-Pager-Signature: sha256=<hex HMAC-SHA256 of "{timestamp}.{raw body}" under webhookSecret>`: { type: 'message', id, from, name, text } when a user
 *   writes, { type: 'receipt', id, status: 'delivered' | 'read' | 'failed' } when a message reached them.
 */
interface Sent {
  to: string;
  text: string;
  idempotencyKey: string;
  id: string;
}

function startProvider(apiKey: string) {
  const sent: Sent[] = [];
  const attempts = new Map<string, number>();
  const down = new Set<string>();
  const ids = new Map<string, string>();
  // A recipient listed here gets its message taken, and the answer held until the promise settles.
  const holds = new Map<string, Promise<void>>();
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', async () => {
      if (req.method !== 'POST' || req.url !== '/messages' || req.headers.authorization !== `Bearer ${apiKey}`) {
        res.writeHead(401).end();
        return;
      }
      const m = JSON.parse(body) as { to: string; text: string; idempotencyKey: string };
      attempts.set(m.to, (attempts.get(m.to) ?? 0) + 1);
      if (down.has(m.to)) {
        res.writeHead(503).end();
        return;
      }
      const id = ids.get(m.idempotencyKey) ?? `pm-${ids.size + 1}`;
      if (!ids.has(m.idempotencyKey)) {
        ids.set(m.idempotencyKey, id);
        sent.push({ ...m, id });
      }
      await holds.get(m.to);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id }));
    });
  });
  return new Promise<{ port: number; sent: Sent[]; attempts: Map<string, number>; down: Set<string>; holds: Map<string, Promise<void>>; close: () => Promise<void> }>((resolve) => {
    server.listen(0, '127.0.0.1', () =>
      resolve({
        port: (server.address() as AddressInfo).port,
        sent,
        attempts,
        down,
        holds,
        close: () => new Promise((r) => server.close(() => r())),
      }),
    );
  });
}

interface PagerSettings {
  baseUrl: string;
  apiKey: string;
  webhookSecret: string;
}

const pagerChannel: ChannelDefinition = {
  kind: 'pager',
  description: 'A pager service (test only)',
  capabilities: { html: false, attachments: false, replyWindowHours: null, typing: false, readReceipts: true },
  settingsSchema: Type.Object(
    {
      baseUrl: Type.String({ pattern: '^http://127\\.0\\.0\\.1:[0-9]+$' }),
      apiKey: Type.String({ minLength: 8, secret: true }),
      webhookSecret: Type.String({ minLength: 16, secret: true }),
    },
    { additionalProperties: false },
  ),
  identityKinds: [{ kind: 'pager_user', description: 'A pager service user' }],
  outbound: {
    retry: { maxAttempts: 3, baseDelayMs: 100 },
    async send(message, ctx) {
      const s = ctx.settings as unknown as PagerSettings;
      const to = message.customer.identities.find((i) => i.kind === 'pager_user')?.value;
      if (!to) throw new ChannelSendError('pager.no_recipient', true);
      await ctx.outbound.pin(new URL(s.baseUrl).hostname);
      const res = await fetch(`${s.baseUrl}/messages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${s.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ to, text: message.body, idempotencyKey: message.deliveryId }),
      });
      if (res.status === 401) throw new ChannelSendError('pager.unauthorized', true);
      if (!res.ok) throw new ChannelSendError('pager.unavailable');
      return { providerId: ((await res.json()) as { id: string }).id, status: 'sent' };
    },
  },
  webhook: {
    verify(request, settings) {
      const ts = request.headers['x-pager-timestamp'];
      if (typeof ts !== 'string' || !/^[0-9]{1,12}$/.test(ts)) return false;
      const signed = Buffer.concat([Buffer.from(`${ts}.`), request.raw]);
      if (!verifyHmacSha256(signed, (settings as unknown as PagerSettings).webhookSecret, request.headers['x-pager-signature'], 'sha256=')) return false;
      return { signedAt: new Date(Number(ts) * 1000) };
    },
    parse(request): WebhookEvent[] {
      const b = JSON.parse(request.raw.toString('utf8')) as { type: string; id: string; from?: string; name?: string; text?: string; status?: 'delivered' | 'read' | 'failed' };
      if (b.type === 'receipt') return [{ type: 'delivery', providerId: b.id, status: b.status! }];
      return [{ type: 'message', message: { providerId: b.id, identity: { kind: 'pager_user', value: b.from! }, name: b.name, body: b.text! } }];
    },
  },
};

const SECRET = 'webhook-secret-0123456789';
let rapport: TestServer;
let ws: TestWorkspace;
let provider: Awaited<ReturnType<typeof startProvider>>;
let inboxId: string;
const api = () => client(rapport, ws.token, ws.workspaceId);

beforeAll(async () => {
  provider = await startProvider('pager-api-key');
  rapport = await startTestServer({ modules: [...modules, { name: 'pager', channels: [pagerChannel] }] });
  ws = await createTestWorkspace(rapport);
  const res = await api().post('/inboxes', {
    name: 'Pager',
    channel: 'pager',
    settings: { baseUrl: `http://127.0.0.1:${provider.port}`, apiKey: 'pager-api-key', webhookSecret: SECRET },
  });
  expect(res.statusCode).toBe(201);
  inboxId = res.json().id;
});
afterAll(async () => {
  await rapport?.stop();
  await provider?.close();
});

/**
 * The provider calling Rapport: `secret` signs the body (a wrong one makes a bad signature), with
 * the time it signed at (now by default; the test's clock is the server's real one).
 */
function webhook(body: unknown, secret = SECRET, signedAt = new Date()) {
  const raw = JSON.stringify(body);
  const ts = String(Math.floor(signedAt.getTime() / 1000));
  const signature = `sha256=${createHmac('sha256', secret).update(`${ts}.${raw}`).digest('hex')}`;
  return rapport.app.inject({
    method: 'POST',
    url: `/api/v1/channels/pager/webhooks/${inboxId}`,
    payload: raw,
    headers: { 'content-type': 'application/json', 'x-pager-signature': signature, 'x-pager-timestamp': ts },
  });
}

async function messagesOf(conversationId: string) {
  return (await api().get(`/conversations/${conversationId}/messages`)).json().items as { id: string; type: string; body: string; metadata: Record<string, any>; author: { type: string } }[];
}

async function conversationOf(from: string): Promise<{ id: string; customer: { id: string } }> {
  const customers = (await api().get('/customers?limit=100')).json().items as { id: string; identities: { kind: string; value: string }[] }[];
  const customer = customers.find((c) => c.identities.some((i) => i.kind === 'pager_user' && i.value === from));
  expect(customer).toBeDefined();
  const list = (await api().get(`/conversations?customer=${customer!.id}`)).json().items;
  expect(list).toHaveLength(1);
  return list[0];
}

describe('a channel registered only in a test', () => {
  it('validates its settings by its schema and hides its secrets', async () => {
    const bad = await api().post('/inboxes', { name: 'Bad', channel: 'pager', settings: { baseUrl: 'http://127.0.0.1:1', apiKey: 'short', webhookSecret: SECRET } });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().code).toBe('inboxes.invalid_settings');
    const shown = (await api().get(`/inboxes/${inboxId}`)).json();
    expect(shown.settings).toEqual({ baseUrl: `http://127.0.0.1:${provider.port}`, apiKey: '********', webhookSecret: '********' });
  });

  it('keeps the stored secrets when the settings come back as they were shown (masked), and refuses a mask with no secret behind it', async () => {
    const shown = (await api().get(`/inboxes/${inboxId}`)).json();
    const saved = await api().patch(`/inboxes/${inboxId}`, { name: 'Pager', settings: shown.settings });
    expect(saved.statusCode).toBe(200);
    // The mask did not become the secret: a webhook signed with it is forged, one signed with the real secret is not.
    expect((await webhook({ type: 'message', id: 'in-mask', from: 'u-mask', text: 'hi' }, '********')).statusCode).toBe(401);
    expect((await webhook({ type: 'receipt', id: 'no-such-delivery', status: 'read' })).statusCode).toBe(200);
    const fresh = await api().post('/inboxes', { name: 'Masked', channel: 'pager', settings: { ...shown.settings } });
    expect(fresh.statusCode).toBe(422);
    expect(fresh.json().code).toBe('inboxes.invalid_settings');
  });

  it('opens a conversation from a signed inbound webhook, threads the next one, and stores a redelivery once', async () => {
    const first = await webhook({ type: 'message', id: 'in-1', from: 'u-ann', name: 'Ann', text: 'Is my order on its way?' });
    expect(first.statusCode).toBe(200);
    expect(first.json()).toEqual({ received: 1 });
    expect((await webhook({ type: 'message', id: 'in-1', from: 'u-ann', name: 'Ann', text: 'Is my order on its way?' })).statusCode).toBe(200);
    expect((await webhook({ type: 'message', id: 'in-2', from: 'u-ann', text: 'Order 1001' })).statusCode).toBe(200);
    const conversation = await conversationOf('u-ann');
    const messages = await messagesOf(conversation.id);
    expect(messages.map((m) => [m.type, m.author.type, m.body])).toEqual([
      ['inbound', 'customer', 'Is my order on its way?'],
      ['inbound', 'customer', 'Order 1001'],
    ]);
    expect(messages[0].metadata.pager).toEqual({ providerId: 'in-1' });
    const customer = (await api().get(`/customers/${conversation.customer.id}`)).json();
    expect(customer).toMatchObject({ name: 'Ann', identities: [{ kind: 'pager_user', value: 'u-ann' }] });
  });

  it('refuses a webhook with a bad or missing signature with a 401 problem, and changes nothing', async () => {
    const forged = await webhook({ type: 'message', id: 'in-x', from: 'u-mallory', text: 'hi' }, 'not-the-secret-at-all');
    expect(forged.statusCode).toBe(401);
    expect(forged.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(forged.json().code).toBe('channels.bad_signature');
    const unsigned = await rapport.app.inject({ method: 'POST', url: `/api/v1/channels/pager/webhooks/${inboxId}`, payload: '{}', headers: { 'content-type': 'application/json' } });
    expect(unsigned.statusCode).toBe(401);
    // Another kind's path or an unknown inbox is a 404, whatever the signature.
    expect((await rapport.app.inject({ method: 'POST', url: `/api/v1/channels/email/webhooks/${inboxId}`, payload: '{}' })).statusCode).toBe(404);
    expect((await rapport.app.inject({ method: 'POST', url: `/api/v1/channels/pager/webhooks/${ws.inboxId}`, payload: '{}' })).statusCode).toBe(404);
    const customers = (await api().get('/customers?limit=100')).json().items as { identities: { value: string }[] }[];
    expect(customers.some((c) => c.identities.some((i) => i.value === 'u-mallory'))).toBe(false);
  });

  it('refuses a call signed outside five minutes of its clock with a 401 problem, and changes nothing', async () => {
    const old = await webhook({ type: 'message', id: 'in-old', from: 'u-old', text: 'captured earlier' }, SECRET, new Date(Date.now() - 10 * 60_000));
    expect(old.statusCode).toBe(401);
    expect(old.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(old.json().code).toBe('channels.webhook_stale');
    const ahead = await webhook({ type: 'message', id: 'in-old', from: 'u-old', text: 'from the future' }, SECRET, new Date(Date.now() + 10 * 60_000));
    expect(ahead.json().code).toBe('channels.webhook_stale');
    // The timestamp is signed: moving it forward on a captured call breaks the signature.
    const raw = JSON.stringify({ type: 'message', id: 'in-old', from: 'u-old', text: 'moved' });
    const oldTs = String(Math.floor((Date.now() - 10 * 60_000) / 1000));
    const moved = await rapport.app.inject({
      method: 'POST',
      url: `/api/v1/channels/pager/webhooks/${inboxId}`,
      payload: raw,
      headers: {
        'content-type': 'application/json',
        'x-pager-signature': `sha256=${createHmac('sha256', SECRET).update(`${oldTs}.${raw}`).digest('hex')}`,
        'x-pager-timestamp': String(Math.floor(Date.now() / 1000)),
      },
    });
    expect(moved.statusCode).toBe(401);
    expect(moved.json().code).toBe('channels.bad_signature');
    const customers = (await api().get('/customers?limit=100')).json().items as { identities: { value: string }[] }[];
    expect(customers.some((c) => c.identities.some((i) => i.value === 'u-old'))).toBe(false);
  });

  it('answers a replayed call 200 without applying it twice', async () => {
    const at = new Date();
    const body = { type: 'message', id: 'in-replay', from: 'u-replay', text: 'once only' };
    const first = await webhook(body, SECRET, at);
    expect(first.statusCode).toBe(200);
    expect(first.json()).toEqual({ received: 1 });
    const conversation = await conversationOf('u-replay');
    // Caught by its delivery key before any event is applied (the answer says so), not by the message's provider id.
    const replay = await webhook(body, SECRET, at);
    expect(replay.statusCode).toBe(200);
    expect(replay.json()).toEqual({ received: 1, duplicate: true });
    expect((await messagesOf(conversation.id)).map((m) => m.body)).toEqual(['once only']);
    // The same body signed at another time is a new delivery (a provider's later retry): still one message, by its provider id.
    const later = await webhook(body, SECRET, new Date(at.getTime() + 2000));
    expect(later.json()).toEqual({ received: 1 });
    expect((await messagesOf(conversation.id)).map((m) => m.body)).toEqual(['once only']);
  });

  it('sends an agent reply through the outbound job and takes the delivery receipt from the webhook', async () => {
    const conversation = await conversationOf('u-ann');
    const reply = await api().post(`/conversations/${conversation.id}/messages`, { type: 'reply', body: 'It ships today.' });
    expect(reply.statusCode).toBe(201);
    const messageId = reply.json().id;
    const sent = await eventually(async () => provider.sent.find((s) => s.text === 'It ships today.'));
    expect(sent.to).toBe('u-ann');
    const delivery = async () => (await messagesOf(conversation.id)).find((m) => m.id === messageId)!.metadata.delivery;
    expect(await eventually(async () => ((await delivery())?.status === 'sent' ? delivery() : null))).toMatchObject({ status: 'sent', providerId: sent.id, attempts: 1, reason: null });

    // A forged "read" receipt is refused and changes nothing; the signed "delivered" one is taken.
    expect((await webhook({ type: 'receipt', id: sent.id, status: 'read' }, 'not-the-secret-at-all')).statusCode).toBe(401);
    expect((await delivery()).status).toBe('sent');
    expect((await webhook({ type: 'receipt', id: sent.id, status: 'delivered' })).statusCode).toBe(200);
    expect(await delivery()).toMatchObject({ status: 'delivered', providerId: sent.id });
    // Receipts only move forward: a late "sent"-like downgrade cannot come back from "read".
    expect((await webhook({ type: 'receipt', id: sent.id, status: 'read' })).statusCode).toBe(200);
    expect((await delivery()).status).toBe('read');
    expect((await webhook({ type: 'receipt', id: sent.id, status: 'delivered' })).statusCode).toBe(200);
    expect((await delivery()).status).toBe('read');
    // Notes never leave.
    await api().post(`/conversations/${conversation.id}/messages`, { type: 'note', body: 'internal only' });
    const events = (await api().get(`/conversations/${conversation.id}/events`)).json().items as { type: string; data: { fields?: string[] } }[];
    expect(events.some((e) => e.type === 'message.updated' && e.data.fields?.includes('metadata.delivery'))).toBe(true);
    const changes = events.filter((e) => e.type === 'message.delivery_changed').map((e) => (e.data as unknown as { status: string }).status);
    expect(changes).toEqual(expect.arrayContaining(['queued', 'sent', 'delivered', 'read']));
    expect(provider.sent.some((s) => s.text === 'internal only')).toBe(false);
  });

  it('retries a failing provider with backoff and dead-letters the reply as failed, with its reason on the message', async () => {
    expect((await webhook({ type: 'message', id: 'in-bob', from: 'u-bob', text: 'Hello?' })).statusCode).toBe(200);
    const conversation = await conversationOf('u-bob');
    provider.down.add('u-bob');
    const reply = await api().post(`/conversations/${conversation.id}/messages`, { type: 'reply', body: 'Hi Bob' });
    const messageId = reply.json().id;
    const failed = await eventually(async () => {
      const m = (await messagesOf(conversation.id)).find((x) => x.id === messageId)!;
      return m.metadata.delivery?.status === 'failed' ? m.metadata.delivery : null;
    }, 20_000);
    expect(failed).toMatchObject({ status: 'failed', reason: 'pager.unavailable', attempts: 3 });
    expect(provider.attempts.get('u-bob')).toBe(3);
    expect(provider.sent.some((s) => s.to === 'u-bob')).toBe(false);
  });

  it('keeps a receipt that arrives before the reply recorded its provider id, and applies it once it is', async () => {
    expect((await webhook({ type: 'message', id: 'in-eve', from: 'u-eve', text: 'Quick?' })).statusCode).toBe(200);
    const conversation = await conversationOf('u-eve');
    let answer!: () => void;
    provider.holds.set('u-eve', new Promise((resolve) => (answer = resolve)));
    const messageId = (await api().post(`/conversations/${conversation.id}/messages`, { type: 'reply', body: 'Very quick' })).json().id;
    // The provider has the message and calls back before it answers the send.
    const sent = await eventually(async () => provider.sent.find((s) => s.to === 'u-eve'));
    expect((await webhook({ type: 'receipt', id: sent.id, status: 'delivered' })).statusCode).toBe(200);
    const delivery = async () => (await messagesOf(conversation.id)).find((m) => m.id === messageId)!.metadata.delivery;
    expect(await delivery()).toMatchObject({ status: 'queued', attempts: 0 });
    answer();
    expect(await eventually(async () => ((await delivery())?.status === 'delivered' ? delivery() : null))).toMatchObject({ status: 'delivered', providerId: sent.id, attempts: 1 });
  });

  it('sends an attempt once when a second copy of its job runs while the first is sending (the sweeper re-added the key)', async () => {
    expect((await webhook({ type: 'message', id: 'in-dan', from: 'u-dan', text: 'Twice?' })).statusCode).toBe(200);
    const conversation = await conversationOf('u-dan');
    let answer!: () => void;
    provider.holds.set('u-dan', new Promise((resolve) => (answer = resolve)));
    const messageId = (await api().post(`/conversations/${conversation.id}/messages`, { type: 'reply', body: 'Only once' })).json().id;
    // The first copy is inside send(): the provider took the message and holds its answer.
    await eventually(async () => provider.attempts.get('u-dan') === 1);
    const [{ id: deliveryId }] = await systemQuery<{ id: string }>(rapport, 'select id from channel_messages where message_id = $1', [messageId]);
    // graphile-worker cleared the running job's key and inserted a second copy of attempt 1: it runs now.
    const second = channelSendTask(rapport.server)({ workspaceId: ws.workspaceId, deliveryId, attempt: 1 }, {} as never) as Promise<void>;
    // Without the claim the copy would reach the provider (and wait on the same hold): stop at either.
    let returned = false;
    void second.then(() => (returned = true));
    await eventually(async () => returned || provider.attempts.get('u-dan') === 2);
    answer();
    await second;
    expect(provider.attempts.get('u-dan')).toBe(1);
    const delivery = async () => (await messagesOf(conversation.id)).find((m) => m.id === messageId)!.metadata.delivery;
    expect(await eventually(async () => ((await delivery())?.status === 'sent' ? delivery() : null))).toMatchObject({ status: 'sent', attempts: 1 });
  });

  it('applies a receipt kept while the reply recorded its id (the webhook read before that commit) at the next sweep', async () => {
    const conversation = await conversationOf('u-ann');
    const messageId = (await api().post(`/conversations/${conversation.id}/messages`, { type: 'reply', body: 'Raced' })).json().id;
    const sent = await eventually(async () => provider.sent.find((s) => s.text === 'Raced'));
    const delivery = async () => (await messagesOf(conversation.id)).find((m) => m.id === messageId)!.metadata.delivery;
    await eventually(async () => (await delivery())?.status === 'sent');
    // What the race leaves: the receipt kept as early though the reply now holds its id.
    await systemQuery(rapport, "insert into channel_early_receipts (workspace_id, inbox_id, provider_id, status, reason, received_at) values ($1, $2, $3, 'delivered', null, now())", [
      ws.workspaceId,
      inboxId,
      sent.id,
    ]);
    await sweepStaleDeliveries(rapport.server);
    expect(await delivery()).toMatchObject({ status: 'delivered', providerId: sent.id });
    expect(await systemQuery(rapport, 'select 1 from channel_early_receipts where provider_id = $1', [sent.id])).toHaveLength(0);
  });
});
