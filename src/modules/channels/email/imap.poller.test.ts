import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, createTestWorkspace, eventually, startTestServer, type TestServer, type TestWorkspace } from '../../../../test/helpers.js';
import { modules } from '../../index.js';
import { createEmailModule, emailRuntimeOf } from './email.module.js';
import { createEmailInbox, systemQuery } from './email.testing.js';
import { skipDovecotTests, startCuttingProxy, startDovecot, type Dovecot } from './imap.dovecot.js';
import type { ImapPollStarted } from './imap.poller.js';

/** IMAP polling against a real Dovecot started by this test (SECURITY E2, E13). */
const skipped = skipDovecotTests();
let dovecot: Dovecot;
let rapport: TestServer;
let ws: TestWorkspace;
let seq = 0;

beforeAll(async () => {
  if (skipped) return;
  const users = ['alice', 'bert', 'cora', 'dora', ...Array.from({ length: 12 }, (_, i) => `many${i}`)];
  dovecot = await startDovecot(Object.fromEntries(users.map((u) => [u, `pw-${u}`])));
  rapport = await startTestServer({ modules: modules.map((m) => (m.name === 'email' ? createEmailModule({ imapPollMs: 200 }) : m)) });
  ws = await createTestWorkspace(rapport);
});
afterAll(async () => {
  await rapport?.stop();
  await dovecot?.stop();
});

function message(from: string, subject: string, body = 'hello', id = `<imap${++seq}.${Date.now()}@customer.test>`) {
  return { id, raw: `From: ${from}\r\nTo: desk@imap.test\r\nSubject: ${subject}\r\nMessage-ID: ${id}\r\n\r\n${body}\r\n` };
}

async function mailbox(user: string, extra: Record<string, unknown> = {}, port = dovecot.port) {
  const inbox = await createEmailInbox(
    rapport,
    ws,
    {
      addresses: [`${user}@imap.test`],
      imap: { host: '127.0.0.1', port, tls: 'none', user, password: `pw-${user}`, ...extra },
    },
    user,
  );
  const imap = await dovecot.connect(user, `pw-${user}`);
  return { inboxId: inbox.id, imap };
}

/** Resolves once a poll of the mailbox that started after this call has ended: whatever it would store is stored. */
function aWholePollOf(inboxId: string): Promise<void> {
  const poller = emailRuntimeOf(rapport.server).poller;
  return new Promise((resolve) => {
    let started = false;
    const onStart = (e: ImapPollStarted) => {
      if (e.inboxId !== inboxId) return;
      started = true;
      poller.off('poll', onStart);
    };
    const onEnd = (e: ImapPollStarted) => {
      if (e.inboxId !== inboxId || !started) return;
      poller.off('polled', onEnd);
      resolve();
    };
    poller.on('poll', onStart);
    poller.on('polled', onEnd);
  });
}

const storedIn = (inboxId: string) =>
  systemQuery<{ rfc_message_id: string; received_via: string }>(rapport, "select rfc_message_id, received_via from email_messages where inbox_id = $1 and direction = 'inbound' order by created_at", [
    inboxId,
  ]);

describe.skipIf(skipped)('IMAP polling (Dovecot)', () => {
  it('fetches new mail by UID into conversations and marks it \\Seen after the commit; hides the password in the API', async () => {
    const { inboxId, imap } = await mailbox('alice');
    const m1 = message('Ann <ann@customer.test>', 'via imap');
    await imap.append('INBOX', m1.raw);
    await eventually(async () => (await storedIn(inboxId)).length === 1, 15_000);
    const conversation = (await client(rapport, ws.token, ws.workspaceId).get(`/conversations?inbox=${inboxId}`)).json().items[0];
    expect(conversation).toMatchObject({ subject: 'via imap', customer: { email: 'ann@customer.test' } });
    const flags = await eventually(async () => {
      await imap.mailboxOpen('INBOX');
      const f = await imap.fetchOne('*', { flags: true });
      return f && f.flags?.has('\\Seen') ? f.flags : null;
    });
    expect(flags.has('\\Seen')).toBe(true);
    const m2 = message('ann@customer.test', 'second');
    await imap.append('INBOX', m2.raw);
    await eventually(async () => (await storedIn(inboxId)).length === 2, 15_000);
    expect((await storedIn(inboxId)).map((r) => r.received_via)).toEqual(['imap', 'imap']);
    const shown = (await client(rapport, ws.token, ws.workspaceId).get(`/inboxes/${inboxId}`)).json();
    expect(shown.settings.imap.password).toBe('********');
    await imap.logout();
  }, 60_000);

  it('starts over after a UIDVALIDITY change and still stores each message once (E2)', async () => {
    const { inboxId, imap } = await mailbox('bert', { mailbox: 'Support' });
    await imap.mailboxCreate('Support');
    const m = message('bea@customer.test', 'before the change');
    await imap.append('Support', m.raw);
    await eventually(async () => (await storedIn(inboxId)).length === 1, 15_000);
    // Recreate the mailbox: new UIDVALIDITY, and the same message delivered again.
    await imap.mailboxDelete('Support');
    await imap.mailboxCreate('Support');
    await imap.append('Support', m.raw);
    const other = message('bea@customer.test', 'after the change');
    await imap.append('Support', other.raw);
    await eventually(async () => (await storedIn(inboxId)).length === 2, 15_000);
    // One more whole poll after both are in: a duplicate would have been stored by it.
    await aWholePollOf(inboxId);
    expect((await storedIn(inboxId)).map((r) => r.rfc_message_id)).toEqual([m.id.slice(1, -1), other.id.slice(1, -1)]);
    await imap.logout();
  });

  it('resumes after a disconnect in the middle of a FETCH, with no loss and no duplicate (E13)', async () => {
    const proxy = await startCuttingProxy(dovecot.port);
    // Every connection is cut once 100 KB have come from the server: the large message never
    // arrives whole, the small one does. Armed before the inbox exists, so no poll connection
    // opened earlier can slip through uncut.
    proxy.state.cutAfterBytes = 100_000;
    proxy.state.cuts = 1_000_000;
    const { inboxId, imap } = await mailbox('cora', {}, proxy.port);
    await imap.mailboxOpen('INBOX');
    const big = message('cy@customer.test', 'large one', 'z'.repeat(400_000));
    const small = message('cy@customer.test', 'small one');
    await imap.append('INBOX', small.raw);
    await imap.append('INBOX', big.raw);
    await eventually(async () => proxy.state.cutsDone >= 2, 20_000);
    expect((await storedIn(inboxId)).map((r) => r.rfc_message_id)).toEqual([small.id.slice(1, -1)]);
    // The large message is still unread on the server: nothing was marked before a commit.
    const unseen = await eventually(async () => {
      await imap.noop();
      const list = await imap.search({ seen: false }, { uid: true });
      return list && list.length === 1 ? list : null;
    }, 5000).catch(async () => imap.search({ seen: false }, { uid: true }));
    expect(unseen).toHaveLength(1);
    // The network heals: polling resumes where it stopped.
    proxy.state.cuts = 0;
    await eventually(async () => (await storedIn(inboxId)).length === 2, 20_000);
    // One more whole poll after both are in: a duplicate would have been stored by it.
    await aWholePollOf(inboxId);
    expect((await storedIn(inboxId)).map((r) => r.rfc_message_id)).toEqual([small.id.slice(1, -1), big.id.slice(1, -1)]);
    await imap.logout();
    await proxy.close();
  }, 40_000);

  it('leaves a message that cannot be stored unread after a few passes, and goes on with the ones behind it', async () => {
    const { inboxId, imap } = await mailbox('dora');
    const poison = message('dee@customer.test', 'cannot be stored', 'x', '<poison.imap@customer.test>');
    const after = message('dee@customer.test', 'behind it');
    // The database refuses this one message every time (as a bug or a constraint would).
    await rapport.pool.query(`create function refuse_poison() returns trigger language plpgsql as $$
      begin if new.rfc_message_id = 'poison.imap@customer.test' then raise exception 'refused for the test'; end if; return new; end $$`);
    await rapport.pool.query('create trigger refuse_poison before insert on email_messages for each row execute function refuse_poison()');
    try {
      await imap.append('INBOX', poison.raw);
      await imap.append('INBOX', after.raw);
      await eventually(async () => (await storedIn(inboxId)).length === 1, 20_000);
      expect((await storedIn(inboxId)).map((r) => r.rfc_message_id)).toEqual([after.id.slice(1, -1)]);
      // The one that failed is still unread on the server; the stored one is \Seen (set just after
      // its commit, so it may land a moment after the row is visible).
      await imap.mailboxOpen('INBOX');
      await eventually(async () => {
        await imap.noop();
        const unseen = await imap.search({ seen: false }, { uid: true });
        return unseen && unseen.length === 1;
      });
      const [poisonUid] = (await imap.search({ header: { 'message-id': poison.id } }, { uid: true })) || [];
      expect(await imap.search({ seen: false }, { uid: true })).toEqual([poisonUid]);
    } finally {
      await rapport.pool.query('drop trigger refuse_poison on email_messages');
    }
    await imap.logout();
  }, 40_000);

  it('polls many mailboxes concurrently, and a broken one does not hold up the others', async () => {
    const boxes = [];
    for (let i = 0; i < 12; i++) boxes.push(await mailbox(`many${i}`));
    // One inbox whose IMAP password is wrong.
    await createEmailInbox(rapport, ws, { addresses: ['broken@imap.test'], imap: { host: '127.0.0.1', port: dovecot.port, tls: 'none', user: 'many0', password: 'wrong' } }, 'broken');
    const started = Date.now();
    for (const b of boxes) await b.imap.append('INBOX', message('m@customer.test', 'many').raw);
    for (const b of boxes) await eventually(async () => (await storedIn(b.inboxId)).length === 1, 20_000);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeLessThan(15_000);
    expect(emailRuntimeOf(rapport.server).poller.passes).toBeGreaterThan(0);
    for (const b of boxes) await b.imap.logout();
  }, 60_000);
});
