import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withWorkspace } from '../../db/tenancy.js';
import { client, startTestServer, createTestWorkspace, type TestServer, type TestWorkspace } from '../../../test/helpers.js';
import type { WorkspaceContext } from '../context.js';
import { modules } from '../index.js';
import { appendBotReply, ingestInbound } from './conversations.channels.js';

/** The open conversation model: identity kinds channels register, a bot author, message kinds. */
let rapport: TestServer;
let ws: TestWorkspace;
let deps: WorkspaceContext;
const api = () => client(rapport, ws.token, ws.workspaceId);

beforeAll(async () => {
  // A channel that only declares an identity kind: registering it is all a new kind needs.
  rapport = await startTestServer({
    modules: [
      ...modules,
      {
        name: 'signal-like',
        channels: [
          {
            kind: 'signal_like',
            description: 'test',
            capabilities: { html: false, attachments: false, replyWindowHours: 24, typing: true, readReceipts: true },
            identityKinds: [{ kind: 'signal_like_user', description: 'test' }],
          },
        ],
      },
    ],
  });
  ws = await createTestWorkspace(rapport);
  deps = { pool: rapport.pool, clock: rapport.server.clock, workspaceId: ws.workspaceId, actor: { type: 'system', id: null } };
});
afterAll(async () => rapport?.stop());

const ingest = (identity: { kind: string; value: string }, body: string, extra: Partial<Parameters<typeof ingestInbound>[2]> = {}) =>
  withWorkspace(rapport.pool, ws.workspaceId, (tx) =>
    ingestInbound(tx, deps, {
      inboxId: ws.inboxId,
      customer: { identities: [identity], name: 'Vic' },
      thread: 'latest_open',
      body,
      at: new Date(),
      ...extra,
    }),
  );

describe('the one ingest path', () => {
  it('finds or creates the customer by a registered identity kind and threads to their open conversation', async () => {
    const first = await ingest({ kind: 'signal_like_user', value: 'vic-1' }, 'hello');
    expect(first.opened).toBe(true);
    const second = await ingest({ kind: 'signal_like_user', value: 'vic-1' }, 'again');
    expect(second).toMatchObject({ conversationId: first.conversationId, customerId: first.customerId, opened: false, reopened: false });
    const customer = (await api().get(`/customers/${first.customerId}`)).json();
    expect(customer.identities).toEqual([expect.objectContaining({ kind: 'signal_like_user', value: 'vic-1' })]);
  });

  it('reopens a resolved conversation, and opens a new one once it is closed', async () => {
    const first = await ingest({ kind: 'signal_like_user', value: 'vic-2' }, 'one');
    await api().patch(`/conversations/${first.conversationId}`, { status: 'resolved' });
    const again = await ingest({ kind: 'signal_like_user', value: 'vic-2' }, 'two');
    expect(again).toMatchObject({ conversationId: first.conversationId, reopened: true });
    expect((await api().get(`/conversations/${first.conversationId}`)).json().status).toBe('open');
    await api().patch(`/conversations/${first.conversationId}`, { status: 'closed' });
    const fresh = await ingest({ kind: 'signal_like_user', value: 'vic-2' }, 'three');
    expect(fresh.opened).toBe(true);
    expect(fresh.conversationId).not.toBe(first.conversationId);
  });

  it('refuses an identity kind no channel registered, with a coded error', async () => {
    await expect(ingest({ kind: 'carrier_pigeon', value: 'p-1' }, 'coo')).rejects.toMatchObject({ code: 'customers.unknown_identity_kind' });
    await expect(ingest({ kind: 'Bad Kind', value: 'x' }, 'x')).rejects.toMatchObject({ code: 'customers.unknown_identity_kind' });
  });

  it('stores message kinds and a bot author; text messages read as before (no kind field)', async () => {
    const call = await ingest({ kind: 'phone', value: '+44 20 7946 0000' }, 'Missed call (0:00)', { kind: 'call', thread: 'new' });
    const botId = await withWorkspace(rapport.pool, ws.workspaceId, (tx) =>
      appendBotReply(tx, deps, { conversationId: call.conversationId, bot: { name: 'Helper' }, body: 'We will call you back.', at: new Date() }),
    );
    const items = (await api().get(`/conversations/${call.conversationId}/messages`)).json().items;
    expect(items[0]).toMatchObject({ type: 'inbound', kind: 'call', body: 'Missed call (0:00)' });
    const bot = items.find((m: { id: string }) => m.id === botId);
    expect(bot).toMatchObject({ type: 'outbound', author: { type: 'bot', id: null, name: 'Helper' } });
    expect(bot).not.toHaveProperty('kind');
    const customer = (await api().get(`/customers/${call.customerId}`)).json();
    expect(customer.phone).toBe('+442079460000');
  });
});
