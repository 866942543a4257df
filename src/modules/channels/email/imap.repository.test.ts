import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestWorkspace, startTestServer, type TestServer } from '../../../../test/helpers.js';
import { withSystem } from '../../../db/tenancy.js';
import { fixedClock } from '../../../lib/clock.js';
import { emailRuntimeOf } from './email.module.js';
import { createEmailInbox, systemQuery } from './email.testing.js';
import { imapLeaseRepository as leases } from './imap.repository.js';

/**
 * IMAP mailbox leases are judged by the database's clock (issue #9 review): an instance whose clock
 * runs ahead must not take a mailbox another instance still holds. The server runs with its clock set
 * an hour ahead, and its own poller is stopped so this test is the only one claiming.
 */
let rapport: TestServer;
let inboxId: string;
let workspaceId: string;
const LEASE_MS = 60_000;

beforeAll(async () => {
  rapport = await startTestServer({ clock: fixedClock(new Date(Date.now() + 3_600_000)) });
  await emailRuntimeOf(rapport.server).poller.stop();
  const ws = await createTestWorkspace(rapport);
  workspaceId = ws.workspaceId;
  inboxId = (await createEmailInbox(rapport, ws, { addresses: ['skew@lease.test'], imap: { host: '127.0.0.1', port: 1, tls: 'none', user: 'u', password: 'p' } })).id;
});
afterAll(async () => {
  await rapport?.stop();
});

const claim = (holder: string) => withSystem(rapport.pool, (tx) => leases.claimDue(tx, holder, LEASE_MS, 10));
const lease = async () =>
  (
    await systemQuery<{ holder: string | null; left_ms: number }>(
      rapport,
      'select holder, (extract(epoch from held_until - now()) * 1000)::float8 as left_ms from email_imap_leases where inbox_id = $1',
      [inboxId],
    )
  )[0];

describe('IMAP mailbox leases', () => {
  it('hold for their length by the database clock, whatever an instance’s clock says, and only then pass to another instance', async () => {
    expect((await claim('instance-a')).map((m) => m.inbox_id)).toEqual([inboxId]);
    const held = await lease();
    expect(held.holder).toBe('instance-a');
    expect(held.left_ms).toBeGreaterThan(LEASE_MS - 5_000);
    expect(held.left_ms).toBeLessThanOrEqual(LEASE_MS);
    // Another instance (its clock an hour ahead, as this server's is) finds nothing to claim.
    expect(await claim('instance-b')).toEqual([]);

    // Renewing extends from the database's now, too.
    await systemQuery(rapport, "update email_imap_leases set held_until = now() + interval '1 second' where inbox_id = $1", [inboxId]);
    expect(await withSystem(rapport.pool, (tx) => leases.renew(tx, 'instance-a', LEASE_MS, [{ workspaceId, inboxId }]))).toHaveLength(1);
    expect((await lease()).left_ms).toBeGreaterThan(LEASE_MS - 5_000);

    // Expired by the database's clock: the other instance takes it over.
    await systemQuery(rapport, "update email_imap_leases set held_until = now() - interval '1 second' where inbox_id = $1", [inboxId]);
    expect((await claim('instance-b')).map((m) => m.inbox_id)).toEqual([inboxId]);
    expect((await lease()).holder).toBe('instance-b');

    // Freed, it is due again one interval from the database's now, not from an instance's clock.
    expect(await withSystem(rapport.pool, (tx) => leases.release(tx, 'instance-b', workspaceId, inboxId, LEASE_MS))).toBe(true);
    const [due] = await systemQuery<{ in_ms: number }>(rapport, 'select (extract(epoch from next_poll_at - now()) * 1000)::float8 as in_ms from email_imap_leases where inbox_id = $1', [inboxId]);
    expect(due.in_ms).toBeGreaterThan(LEASE_MS - 5_000);
    expect(due.in_ms).toBeLessThanOrEqual(LEASE_MS);
    expect(await claim('instance-a')).toEqual([]);
  });
});
