import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmailInbox, sendMail, smtpPortOf } from '../src/modules/channels/email/email.testing.js';
import { withSystem } from '../src/db/tenancy.js';
import { adminClient } from './db.js';
import { client, createTestWorkspace, eventually, startTestServer, type TestServer, type TestWorkspace } from './helpers.js';

/**
 * SECURITY L3: the database turns read-only (a full disk makes PostgreSQL refuse writes the same
 * way). The API answers 503 with Retry-After, inbound SMTP answers 452 4.3.1 (temporary: the sender
 * keeps the message and retries; never 250, never 5xx), and both recover unaided when writes return.
 */
let rapport: TestServer;
let ws: TestWorkspace;
let admin: ReturnType<typeof adminClient>;
let database: string;

beforeAll(async () => {
  rapport = await startTestServer();
  ws = await createTestWorkspace(rapport);
  await createEmailInbox(rapport, ws, { addresses: ['desk@l3.test'] });
  database = new URL(rapport.config.databaseUrl!).pathname.slice(1);
  admin = adminClient();
  await admin.connect();
});
afterAll(async () => {
  await admin?.query(`alter database ${database} reset default_transaction_read_only`).catch(() => {});
  await admin?.end();
  await rapport?.stop();
});

/** Every session of the test database is ended, so the pool reconnects under the new default. */
async function readOnly(on: boolean) {
  await admin.query(on ? `alter database ${database} set default_transaction_read_only = on` : `alter database ${database} reset default_transaction_read_only`);
  await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [database]);
}

const mail = (n: number) => ({ from: 'Reader <reader@customer.test>', to: 'desk@l3.test', subject: `while read-only ${n}`, text: 'hello', messageId: `<l3-${n}@customer.test>` });
const stored = (messageId: string) =>
  withSystem(rapport.pool, async (tx) => (await tx.query<{ n: number }>('select count(*)::int as n from email_messages where rfc_message_id = $1', [messageId])).rows[0].n);

describe('a read-only database (SECURITY L3)', () => {
  it('answers 503 on the API and 452 over SMTP, then recovers unaided when writes return', async () => {
    const api = client(rapport, ws.token, ws.workspaceId);
    await readOnly(true);
    const refused = await eventually(async () => {
      const res = await api.post('/conversations', { customer: { email: 'ro@example.test' }, subject: 'read-only', message: { body: 'x' } });
      return res.statusCode === 503 ? res : null;
    }, 15_000);
    expect(String(refused.headers['content-type'])).toMatch(/^application\/problem\+json/);
    expect(refused.headers['retry-after']).toBe('5');
    expect(refused.json().code).toBe('service.unavailable');
    expect(refused.body).not.toMatch(/read-only|transaction|25006/);
    // Reads still work (once the pool has replaced the connections readOnly() ended: one it still
    // held may fail a first request on a loaded machine, as any dropped connection would).
    const read = await eventually(async () => {
      const res = await api.get('/conversations');
      return res.statusCode === 200 ? res : null;
    }, 15_000);
    expect(read.statusCode).toBe(200);

    const smtpError = await sendMail(smtpPortOf(rapport), mail(1)).then(
      () => null,
      (e: Error & { responseCode?: number; response?: string }) => e,
    );
    expect(smtpError?.responseCode).toBe(452);
    expect(smtpError?.response).toMatch(/4\.3\.1/);
    expect(await stored('l3-1@customer.test')).toBe(0);

    await readOnly(false);
    const created = await eventually(async () => {
      const res = await api.post('/conversations', { customer: { email: 'ro@example.test' }, subject: 'read-only', message: { body: 'x' } });
      return res.statusCode === 201 ? res : null;
    }, 15_000);
    expect(created.json().subject).toBe('read-only');
    // The sender's retry is accepted and stored once.
    const accepted = await sendMail(smtpPortOf(rapport), mail(1));
    expect(accepted.response).toMatch(/^250/);
    expect(await stored('l3-1@customer.test')).toBe(1);
  }, 60_000);
});
