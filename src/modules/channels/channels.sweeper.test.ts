import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../lib/clock.js';
import { client, createTestWorkspace, eventually, startTestServer, type TestServer, type TestWorkspace } from '../../../test/helpers.js';
import { modules } from '../index.js';
import { SWEEP_GIVE_UP_MS, SWEEP_STALE_MS, sweepStaleDeliveries, WEBHOOK_DELIVERY_TTL_MS } from './channels.outbound.js';
import { createEmailModule } from './email/email.module.js';
import { createEmailInbox, sendRaw, smtpPortOf, startSink, systemQuery } from './email/email.testing.js';

/**
 * A reply stuck in `queued` because its job is gone. The server's clock runs an hour ahead of the
 * database's, so a retry it schedules (clock + backoff) waits an hour of real time: the test owns
 * every step, and "the job is lost" is made exactly, by failing that job for good as graphile-worker
 * does when its own attempts run out.
 */
const clock = fixedClock(new Date(Date.now() + 3_600_000));
let rapport: TestServer;
let ws: TestWorkspace;
let sink: Awaited<ReturnType<typeof startSink>>;
const refusals = new Map<string, number[]>();
let seq = 0;

beforeAll(async () => {
  sink = await startSink({ refuse: (rcpt) => refusals.get(rcpt)?.shift() ?? null });
  rapport = await startTestServer({ clock, modules: modules.map((m) => (m.name === 'email' ? createEmailModule({ smtpTimeoutMs: 2000, imapPollMs: 3_600_000 }) : m)) });
  ws = await createTestWorkspace(rapport);
  await createEmailInbox(rapport, ws, { addresses: ['sweep@shop.test'], smtp: { host: '127.0.0.1', port: sink.port, tls: 'none' } });
});
afterAll(async () => {
  await rapport?.stop();
  await sink?.close();
});

const api = () => client(rapport, ws.token, ws.workspaceId);

/** A customer writes in (marked automatic: no acknowledgement); the agent answers; the first attempt meets a 451. */
async function replyThatMeetsA451(from: string, body: string) {
  refusals.set(from, [451]);
  const id = `sweep${++seq}.${Date.now()}@customer.test`;
  await sendRaw(smtpPortOf(rapport), `From: ${from}\r\nTo: sweep@shop.test\r\nSubject: Stuck ${seq}\r\nAuto-Submitted: auto-generated\r\nMessage-ID: <${id}>\r\n\r\nhello\r\n`, {
    from,
    to: ['sweep@shop.test'],
  });
  const conversationId = await eventually(
    async () => (await systemQuery<{ conversation_id: string }>(rapport, 'select conversation_id from email_messages where rfc_message_id = $1', [id]))[0]?.conversation_id,
  );
  const messageId = (await api().post(`/conversations/${conversationId}/messages`, { type: 'reply', body })).json().id as string;
  // The 451 is recorded: still queued, one attempt made, the next one's job due in an hour of real time.
  const delivery = await eventually(
    async () =>
      (await systemQuery<{ id: string; attempts: number; status: string }>(rapport, 'select id, attempts, status from channel_messages where message_id = $1 and attempts = 1', [messageId]))[0],
    20_000,
  );
  expect(delivery.status).toBe('queued');
  // Lost: graphile-worker gave that job up for good.
  const lost = await systemQuery(rapport, "select graphile_worker.permanently_fail_jobs(array(select id from graphile_worker.jobs where key = $1), 'lost')", [`channels.send:${delivery.id}:2`]);
  expect(lost).toHaveLength(1);
  return { conversationId, messageId };
}

async function deliveryOf(conversationId: string, messageId: string) {
  const items = (await api().get(`/conversations/${conversationId}/messages`)).json().items as { id: string; metadata: { delivery?: { status: string; reason: string | null; attempts: number } } }[];
  return items.find((i) => i.id === messageId)?.metadata.delivery;
}

describe('the sweeper of replies stuck in queued', () => {
  it('leaves a reply whose next attempt is not long overdue, then re-enqueues it once it is: the same email leaves', async () => {
    const { conversationId, messageId } = await replyThatMeetsA451('stuck@customer.test', 'Found again');
    await sweepStaleDeliveries(rapport.server);
    expect(await deliveryOf(conversationId, messageId)).toMatchObject({ status: 'queued', attempts: 1, reason: 'email.delivery_rejected' });

    clock.advance(SWEEP_STALE_MS + 60_000);
    await sweepStaleDeliveries(rapport.server);
    const mail = await eventually(async () => sink.received.find((m) => m.raw.includes('Found again')), 20_000);
    expect(mail.raw).toContain(`Message-ID: <${messageId}@shop.test>`);
    expect(await eventually(async () => ((await deliveryOf(conversationId, messageId))?.status === 'sent' ? deliveryOf(conversationId, messageId) : null))).toMatchObject({
      status: 'sent',
      attempts: 2,
      reason: null,
    });
  });

  it('fails a reply queued for more than a day, with a code the agent app explains', async () => {
    const { conversationId, messageId } = await replyThatMeetsA451('forgotten@customer.test', 'Too late');
    clock.advance(SWEEP_GIVE_UP_MS + 60_000);
    await sweepStaleDeliveries(rapport.server);
    expect(await deliveryOf(conversationId, messageId)).toMatchObject({ status: 'failed', attempts: 1, reason: 'channel.send_expired' });
    const changes = await systemQuery<{ status: string }>(rapport, "select data->>'status' as status from events where type = 'message.delivery_changed' and data->>'messageId' = $1 order by id", [
      messageId,
    ]);
    expect(changes.map((c) => c.status)).toEqual(['queued', 'queued', 'failed']);
  });

  it('purges webhook delivery keys older than a day and keeps newer ones', async () => {
    const now = clock.now().getTime();
    await systemQuery(
      rapport,
      `insert into channel_webhook_deliveries (workspace_id, inbox_id, delivery_key, received_at)
       values ($1, $2, 'sweep-old', $3), ($1, $2, 'sweep-new', $4)`,
      [ws.workspaceId, ws.inboxId, new Date(now - WEBHOOK_DELIVERY_TTL_MS - 60_000), new Date(now - 60_000)],
    );
    await sweepStaleDeliveries(rapport.server);
    const left = await systemQuery<{ delivery_key: string }>(rapport, "select delivery_key from channel_webhook_deliveries where workspace_id = $1 and delivery_key like 'sweep-%'", [ws.workspaceId]);
    expect(left.map((r) => r.delivery_key)).toEqual(['sweep-new']);
  });
});
