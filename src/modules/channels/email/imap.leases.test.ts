import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestWorkspace, eventually, startTestServer, type TestServer, type TestWorkspace } from '../../../../test/helpers.js';
import { modules } from '../../index.js';
import { createEmailModule, emailRuntimeOf } from './email.module.js';
import { createEmailInbox, systemQuery } from './email.testing.js';
import { skipDovecotTests, startDovecot, type Dovecot } from './imap.dovecot.js';
import type { ImapPollStarted } from './imap.poller.js';

/**
 * Two Rapport instances on one database and one Dovecot (issue #9): each mailbox is polled by one
 * instance per interval, never by both, and a stopped or dead instance's mailboxes are taken over.
 * Every poll start of both instances is recorded through the pollers' `poll` event.
 */
const INTERVAL_MS = 600;
const LEASE_MS = 1_500;
const skipped = skipDovecotTests();
let dovecot: Dovecot;
let a: TestServer;
let b: TestServer;
let ws: TestWorkspace;
const polls: ImapPollStarted[] = [];
const users = ['lease0', 'lease1', 'lease2', 'dead0'];
const inboxOf = new Map<string, string>();

const emailModule = () => modules.map((m) => (m.name === 'email' ? createEmailModule({ imapPollMs: INTERVAL_MS, imapLeaseMs: LEASE_MS }) : m));

beforeAll(async () => {
  if (skipped) return;
  dovecot = await startDovecot(Object.fromEntries(users.map((u) => [u, `pw-${u}`])));
  a = await startTestServer({ modules: emailModule() });
  // The second instance serves the first one's database, as a second process behind a load balancer would.
  b = await startTestServer({ modules: emailModule(), config: { databaseUrl: a.config.databaseUrl } });
  for (const server of [a, b]) emailRuntimeOf(server.server).poller.on('poll', (e) => polls.push(e));
  ws = await createTestWorkspace(a);
  for (const user of users) {
    const inbox = await createEmailInbox(a, ws, { addresses: [`${user}@lease.test`], imap: { host: '127.0.0.1', port: dovecot.port, tls: 'none', user, password: `pw-${user}` } }, user);
    inboxOf.set(user, inbox.id);
  }
});
afterAll(async () => {
  await b?.stop();
  await a?.stop();
  await dovecot?.stop();
});

const pollsOf = (inboxId: string, since = 0) => polls.filter((p) => p.inboxId === inboxId && p.at.getTime() >= since);
const stored = (inboxId: string) => systemQuery<{ n: number }>(a, "select count(*)::int as n from email_messages where inbox_id = $1 and direction = 'inbound'", [inboxId]);

async function deliver(user: string, subject: string) {
  const imap = await dovecot.connect(user, `pw-${user}`);
  const id = `<${subject.replace(/\W/g, '-')}.${Date.now()}@customer.test>`;
  await imap.append('INBOX', `From: c@customer.test\r\nTo: ${user}@lease.test\r\nSubject: ${subject}\r\nMessage-ID: ${id}\r\n\r\nhello\r\n`);
  await imap.logout();
}

describe.skipIf(skipped)('IMAP polling across two instances (leases)', () => {
  it('polls each mailbox once per interval across both instances, and stores each message once', async () => {
    const leased = ['lease0', 'lease1', 'lease2'].map((u) => inboxOf.get(u)!);
    for (const user of ['lease0', 'lease1', 'lease2']) await deliver(user, `first for ${user}`);
    // Enough polls of every mailbox that both instances have scanned many times over.
    await eventually(async () => leased.every((id) => pollsOf(id).length >= 5), 20_000);
    for (const id of leased) {
      const starts = pollsOf(id)
        .map((p) => p.at.getTime())
        .sort((x, y) => x - y);
      // Two instances each polling every mailbox would start two polls within one interval.
      for (let i = 1; i < starts.length; i++) expect(starts[i] - starts[i - 1], `polls of ${id}: ${starts.join(', ')}`).toBeGreaterThanOrEqual(INTERVAL_MS);
      expect((await stored(id))[0].n).toBe(1);
    }
  }, 30_000);

  it('takes over the mailboxes of an instance whose lease expired without being freed (a dead instance)', async () => {
    const id = inboxOf.get('dead0')!;
    // What a killed instance leaves behind: a lease it holds, on a mailbox that is due. Taken only
    // while no live instance holds it, so no poll of either instance is under way for it.
    const setAt = Date.now();
    const heldUntil = await eventually(async () => {
      const rows = await systemQuery<{ held_until: Date }>(
        a,
        `update email_imap_leases set holder = 'dead-host/1/dead', held_until = now() + make_interval(secs => $2::float / 1000), next_poll_at = now()
          where inbox_id = $1 and holder is null returning held_until`,
        [id, LEASE_MS * 2],
      );
      return rows[0]?.held_until;
    });
    await deliver('dead0', 'while the holder is dead');
    const taken = await eventually(async () => pollsOf(id, setAt)[0], 20_000);
    // Nobody polled it while the dead instance's lease held.
    expect(taken.at.getTime()).toBeGreaterThanOrEqual(heldUntil.getTime());
    await eventually(async () => (await stored(id))[0].n === 1, 10_000);
  }, 30_000);

  it("hands a stopped instance's mailboxes to the other one", async () => {
    const aHolder = emailRuntimeOf(a.server).poller.holder;
    const bHolder = emailRuntimeOf(b.server).poller.holder;
    await emailRuntimeOf(a.server).poller.stop();
    // A stop frees the leases it held.
    expect(await systemQuery(a, 'select 1 from email_imap_leases where holder = $1', [aHolder])).toEqual([]);
    const stoppedAt = Date.now();
    for (const user of ['lease0', 'lease1', 'lease2']) await deliver(user, `second for ${user}`);
    for (const user of ['lease0', 'lease1', 'lease2']) {
      const id = inboxOf.get(user)!;
      await eventually(async () => (await stored(id))[0].n === 2, 15_000);
      expect(pollsOf(id, stoppedAt).every((p) => p.holder === bHolder)).toBe(true);
      expect(pollsOf(id, stoppedAt).length).toBeGreaterThan(0);
    }
  }, 30_000);
});
