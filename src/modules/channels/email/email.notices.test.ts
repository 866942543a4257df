import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../../lib/clock.js';
import { createTestWorkspace, eventually, startTestServer, type TestServer, type TestWorkspace } from '../../../../test/helpers.js';
import { modules } from '../../index.js';
import { createEmailModule } from './email.module.js';
import { createEmailInbox, sendRaw, smtpPortOf, startSink, systemQuery } from './email.testing.js';

// The workspace throttle is 500 notices an hour; this server allows 2, so the test sends 3 mails, not 501.
const clock = fixedClock(new Date());
let rapport: TestServer;
let ws: TestWorkspace;
let sink: Awaited<ReturnType<typeof startSink>>;
let seq = 0;

beforeAll(async () => {
  sink = await startSink();
  rapport = await startTestServer({
    clock,
    modules: modules.map((m) => (m.name === 'email' ? createEmailModule({ smtpTimeoutMs: 2000, noticesPerWorkspacePerHour: 2 }) : m)),
  });
  ws = await createTestWorkspace(rapport);
  await createEmailInbox(rapport, ws, {
    addresses: ['desk@notices.test'],
    smtp: { host: '127.0.0.1', port: sink.port, tls: 'none' },
    autoAck: { enabled: true, body: 'We got your message #{{number}}.' },
  });
});
afterAll(async () => {
  await rapport?.stop();
  await sink?.close();
});

async function inbound(from: string) {
  const id = `n${++seq}.${Date.now()}@customer.test`;
  await sendRaw(smtpPortOf(rapport), `From: ${from}\r\nTo: desk@notices.test\r\nSubject: Hello ${seq}\r\nMessage-ID: <${id}>\r\n\r\nhello\r\n`, { from, to: ['desk@notices.test'] });
  await eventually(async () => (await systemQuery(rapport, 'select 1 from email_messages where rfc_message_id = $1 and conversation_id is not null', [id])).length > 0);
}

/** Waits until no acknowledgement or send job is left, so what was not sent will not be. */
async function settled() {
  await eventually(async () => {
    const [row] = await systemQuery<{ n: number }>(rapport, "select count(*)::int as n from graphile_worker.jobs where task_identifier in ('email.autoack', 'email.send')");
    return row.n === 0;
  }, 15_000);
}

const acknowledged = () =>
  sink.received
    .filter((r) => r.raw.includes('We got your message'))
    .map((r) => r.to[0])
    .sort();

describe('automatic notices', () => {
  it('throttles acknowledgements per workspace per hour (E12), and sends again once the hour has passed', async () => {
    for (const who of ['w1', 'w2', 'w3']) await inbound(`${who}@customer.test`);
    await settled();
    await eventually(async () => acknowledged().length >= 2, 15_000);
    expect(acknowledged()).toHaveLength(2);
    expect(acknowledged().every((to) => /^w[123]@customer\.test$/.test(to))).toBe(true);
    // Still within the hour: a fourth sender gets nothing either.
    await inbound('w4@customer.test');
    await settled();
    expect(acknowledged()).toHaveLength(2);
    clock.advance(61 * 60_000);
    await inbound('w5@customer.test');
    await eventually(async () => acknowledged().includes('w5@customer.test'), 15_000);
    expect(acknowledged()).toHaveLength(3);
  });
});
