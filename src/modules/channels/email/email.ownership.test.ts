import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../../lib/clock.js';
import { localMailDns } from '../../../lib/dns.testing.js';
import { modules } from '../../index.js';
import { client, createTestWorkspace, eventually, startTestServer, type TestServer, type TestWorkspace } from '../../../../test/helpers.js';
import { createEmailModule } from './email.module.js';
import { sendAddressConfirmation } from './email.ownership.service.js';
import { createEmailInbox, sendRaw, smtpDialog, smtpPortOf, startSink, systemQuery } from './email.testing.js';

/**
 * SECURITY H2, address and domain squatting: anyone who can create a workspace could list
 * `billing@a.test` or a catch-all of `gmail.com` and receive that mail, and the 409 told anyone an
 * address was in use. Now a claim routes mail only once proven (a confirmation link mailed to the
 * address, or a DNS TXT record), public mail domains are never catch-alls, and no answer depends on
 * another workspace's claims.
 */
let rapport: TestServer;
let sink: Awaited<ReturnType<typeof startSink>>;
let a: TestWorkspace;
let b: TestWorkspace;
let port: number;
const clock = fixedClock(new Date());
/** The zone the fake resolver serves; tests add records to it as an admin would publish them. */
const zone = new Map<string, string[][]>();

beforeAll(async () => {
  sink = await startSink();
  rapport = await startTestServer({
    clock,
    dns: async (name, rrtype) => {
      const records = zone.get(name.toLowerCase());
      if (rrtype === 'TXT' && records) return records;
      return localMailDns(name, rrtype);
    },
    modules: modules.map((m) =>
      m.name === 'email' ? createEmailModule({ verificationSmtpUrl: `smtp://127.0.0.1:${sink.port}`, smtpTimeoutMs: 3000, confirmationsPerAddressPerDay: 3, confirmationTtlHours: 2 }) : m,
    ),
  });
  a = await createTestWorkspace(rapport);
  b = await createTestWorkspace(rapport);
  port = smtpPortOf(rapport);
});
afterAll(async () => {
  await rapport?.stop();
  await sink?.close();
});

const api = (ws: TestWorkspace) => client(rapport, ws.token, ws.workspaceId);
const createIn = (ws: TestWorkspace, settings: Record<string, unknown>, name = 'Inbox') => api(ws).post('/inboxes', { name, channel: 'email', settings });
const ownership = async (ws: TestWorkspace, inboxId: string) => (await api(ws).get(`/inboxes/${inboxId}/email/ownership`)).json();
const statusOf = async (ws: TestWorkspace, inboxId: string, value: string) => (await ownership(ws, inboxId)).items.find((i: { value: string }) => i.value === value)?.status;

/** The SMTP answer to RCPT TO for an address (a pending claim must answer like no claim at all). */
async function rcptReply(address: string): Promise<string> {
  const replies = await smtpDialog(port, ['EHLO client.test', 'MAIL FROM:<c@customer.test>', `RCPT TO:<${address}>`, 'QUIT']);
  return replies.filter((l) => /^\d{3} /.test(l))[3];
}

async function deliveredTo(messageId: string, to: string): Promise<string[]> {
  await sendRaw(port, `From: c@customer.test\r\nTo: ${to}\r\nSubject: hi\r\nMessage-ID: <${messageId}>\r\n\r\nhello\r\n`, { from: 'c@customer.test', to: [to] });
  const rows = await eventually(async () =>
    systemQuery<{ workspace_id: string }>(rapport, 'select workspace_id from email_messages where rfc_message_id = $1', [messageId]).then((r) => (r.length ? r : null)),
  );
  return rows.map((r) => r.workspace_id);
}

/** The token of the last confirmation email the relay carried to `to`. */
async function linkSentTo(to: string, after = 0): Promise<string> {
  const mail = await eventually(async () =>
    sink.received
      .slice(after)
      .reverse()
      .find((m) => m.to.includes(to)),
  );
  const match = /confirm-email#token=([A-Za-z0-9_-]+)/.exec(mail.raw.replace(/=\r?\n/g, '').replace(/=3D/g, '='));
  return match![1];
}

describe('claims route no mail until proven', () => {
  it('keeps a squatted address and catch-all pending: their mail is refused exactly like an unknown address', async () => {
    const unknown = await rcptReply('nobody@squat.test');
    expect(unknown).toMatch(/^550 /);
    const res = await createIn(b, { addresses: ['billing@squat.test'], catchAllDomains: ['squat.test'] });
    expect(res.statusCode).toBe(201);
    // The exact address, a plus address of it, and any address in the catch-all domain.
    for (const address of ['billing@squat.test', 'billing+x@squat.test', 'ceo@squat.test', 'BILLING@SQUAT.TEST']) expect(await rcptReply(address), address).toBe(unknown);
    expect(await systemQuery(rapport, 'select 1 from email_messages where workspace_id = $1', [b.workspaceId])).toEqual([]);
    // The admin sees both as pending.
    const view = await ownership(b, res.json().id);
    expect(view.items.map((i: { value: string; status: string }) => [i.value, i.status])).toEqual([
      ['billing@squat.test', 'pending'],
      ['squat.test', 'pending'],
    ]);
  });

  it('refuses public mail domains as catch-alls, in every spelling, on create and on edit', async () => {
    for (const domain of ['gmail.com', 'GMAIL.COM', 'googlemail.com', 'outlook.com', 'mail.ru', 'eu.gmail.com']) {
      const res = await createIn(b, { addresses: [`desk-${domain.length}@own.test`], catchAllDomains: [domain] });
      expect([res.statusCode, res.json().code], domain).toEqual([422, 'email.public_domain_catch_all']);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
    const inbox = (await createIn(b, { addresses: ['desk@own2.test'] })).json();
    const edit = await api(b).patch(`/inboxes/${inbox.id}`, { settings: { addresses: ['desk@own2.test'], catchAllDomains: ['yahoo.com'] } });
    expect([edit.statusCode, edit.json().code]).toEqual([422, 'email.public_domain_catch_all']);
    // An address at a public domain is fine: it is proven by its own confirmation link.
    expect((await createIn(b, { addresses: ['acme.support@gmail.com'] })).statusCode).toBe(201);
    // A catch-all of a public domain stored before this rule, even verified, never routes.
    await systemQuery(
      rapport,
      `insert into email_inbox_addresses (workspace_id, inbox_id, kind, value, domain, status, verified_by, verified_at)
      values ($1, $2, 'domain', 'hotmail.com', 'hotmail.com', 'verified', 'existing', now())`,
      [b.workspaceId, inbox.id],
    );
    expect(await rcptReply('someone@hotmail.com')).toMatch(/^550 /);
  });

  it('answers a claim on another workspace’s address exactly like a claim on an unused one', async () => {
    await createEmailInbox(rapport, a, { addresses: ['support@claim.test'], catchAllDomains: ['help.claim.test'] }, 'A secret inbox name');
    const attempts = [
      [{ addresses: ['Support@Claim.TEST'] }, { addresses: ['unused@claim.test'] }],
      [
        { addresses: ['new1@b.test'], catchAllDomains: ['HELP.claim.test'] },
        { addresses: ['new2@b.test'], catchAllDomains: ['unused.claim.test'] },
      ],
      [{ addresses: ['someone@help.claim.test'] }, { addresses: ['someone@unused.claim.test'] }],
      [
        { addresses: ['new3@b.test'], catchAllDomains: ['claim.test'] },
        { addresses: ['new4@b.test'], catchAllDomains: ['other-claim.test'] },
      ],
    ];
    const shape = (body: Record<string, unknown>) =>
      JSON.stringify(body)
        .replace(/[0-9a-f-]{36}/g, 'ID')
        .replace(/"[^"]*(claim|b)\.test[^"]*"/g, '"V"')
        .replace(/"createdAt":"[^"]+"/, '');
    for (const [taken, unused] of attempts) {
      const x = await createIn(b, taken);
      const y = await createIn(b, unused);
      expect([x.statusCode, y.statusCode], JSON.stringify(taken)).toEqual([201, 201]);
      expect(shape(x.json())).toBe(shape(y.json()));
      expect(x.body).not.toContain(a.workspaceId);
      expect(x.body).not.toContain('A secret inbox name');
      const own = await ownership(b, x.json().id);
      expect(own.items.every((i: { status: string }) => i.status === 'pending')).toBe(true);
      expect(JSON.stringify(own)).not.toContain(a.workspaceId);
    }
    // A's mail still goes to A: pending claims take nothing.
    expect(await deliveredTo('claim1@customer.test', 'support@claim.test')).toEqual([a.workspaceId]);
    expect(await deliveredTo('claim2@customer.test', 'x@help.claim.test')).toEqual([a.workspaceId]);
    // Inside one workspace, one address still belongs to one inbox (nothing about others is told).
    const dup = await createIn(a, { addresses: ['support@claim.test'] }, 'A again');
    expect([dup.statusCode, dup.json().code]).toEqual([409, 'email.address_taken']);
  });

  it('answers 404 for another workspace’s inbox, like a missing one', async () => {
    const inbox = await createEmailInbox(rapport, a, { addresses: ['private@tenancy.test'] }, 'Private');
    const theirs = await api(b).get(`/inboxes/${inbox.id}/email/ownership`);
    const missing = await api(b).get('/inboxes/00000000-0000-4000-8000-000000000000/email/ownership');
    expect([theirs.statusCode, theirs.json().code]).toEqual([404, 'inboxes.not_found']);
    expect(theirs.body).toBe(missing.body);
    for (const [path, body] of [
      ['email/confirmations', { address: 'private@tenancy.test' }],
      ['email/domain-verifications', { domain: 'tenancy.test' }],
    ] as const) {
      const res = await api(b).post(`/inboxes/${inbox.id}/${path}`, body);
      expect([res.statusCode, res.json().code], path).toEqual([404, 'inboxes.not_found']);
    }
  });
});

describe('proof by a confirmation link', () => {
  it('mails a single-use link through the operator relay; confirming it routes the address', async () => {
    const inbox = (await createIn(a, { addresses: ['desk@link.test'] }, 'Desk')).json();
    const before = sink.received.length;
    const sent = await api(a).post(`/inboxes/${inbox.id}/email/confirmations`, { address: 'DESK@link.test' });
    expect(sent.statusCode).toBe(202);
    const token = await linkSentTo('desk@link.test', before);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // Only its hash is stored.
    expect(JSON.stringify(await systemQuery(rapport, "select * from email_inbox_addresses where value = 'desk@link.test'"))).not.toContain(token);
    expect(await rcptReply('desk@link.test')).toMatch(/^550 /);

    const preview = await rapport.app.inject({ method: 'POST', url: '/api/v1/email/confirmations/preview', payload: { token } });
    expect(preview.statusCode).toBe(200);
    expect(preview.json()).toMatchObject({ address: 'desk@link.test', inboxName: 'Desk' });
    const ok = await rapport.app.inject({ method: 'POST', url: '/api/v1/email/confirmations/accept', payload: { token } });
    expect([ok.statusCode, ok.json().address]).toEqual([200, 'desk@link.test']);
    expect(await statusOf(a, inbox.id, 'desk@link.test')).toBe('verified');
    expect(await deliveredTo('link1@customer.test', 'desk@link.test')).toEqual([a.workspaceId]);
    // Saving the inbox again keeps the proof of the addresses it keeps; an added one starts pending.
    expect((await api(a).patch(`/inboxes/${inbox.id}`, { settings: { addresses: ['desk@link.test', 'desk2@link.test'] } })).statusCode).toBe(200);
    expect([await statusOf(a, inbox.id, 'desk@link.test'), await statusOf(a, inbox.id, 'desk2@link.test')]).toEqual(['verified', 'pending']);

    // Used once: a second use, a made-up token and a malformed one answer alike.
    const again = await rapport.app.inject({ method: 'POST', url: '/api/v1/email/confirmations/accept', payload: { token } });
    const madeUp = await rapport.app.inject({ method: 'POST', url: '/api/v1/email/confirmations/accept', payload: { token: 'A'.repeat(43) } });
    const odd = await rapport.app.inject({ method: 'POST', url: '/api/v1/email/confirmations/accept', payload: { token: "' or 1=1 --" } });
    for (const r of [again, madeUp, odd]) expect([r.statusCode, r.json().code]).toEqual([404, 'email.confirmation_not_found']);
    expect(again.body).toBe(madeUp.body);
    // Nothing left to confirm.
    const done = await api(a).post(`/inboxes/${inbox.id}/email/confirmations`, { address: 'desk@link.test' });
    expect([done.statusCode, done.json().code]).toEqual([409, 'email.already_verified']);
  });

  it('refuses an expired or replaced link, and throttles the emails', async () => {
    const inbox = (await createIn(a, { addresses: ['late@link.test'] }, 'Late')).json();
    const first = sink.received.length;
    expect((await api(a).post(`/inboxes/${inbox.id}/email/confirmations`, { address: 'late@link.test' })).statusCode).toBe(202);
    const old = await linkSentTo('late@link.test', first);
    // At once again: throttled, with Retry-After.
    const soon = await api(a).post(`/inboxes/${inbox.id}/email/confirmations`, { address: 'late@link.test' });
    expect([soon.statusCode, soon.json().code, soon.headers['retry-after']]).toEqual([429, 'email.confirmation_throttled', '60']);
    clock.advance(61_000);
    const second = sink.received.length;
    expect((await api(a).post(`/inboxes/${inbox.id}/email/confirmations`, { address: 'late@link.test' })).statusCode).toBe(202);
    const fresh = await linkSentTo('late@link.test', second);
    expect(fresh).not.toBe(old);
    const replaced = await rapport.app.inject({ method: 'POST', url: '/api/v1/email/confirmations/accept', payload: { token: old } });
    expect([replaced.statusCode, replaced.json().code]).toEqual([404, 'email.confirmation_not_found']);
    // Past its lifetime (2 hours here), the fresh one is dead too.
    clock.advance(2 * 3_600_000 + 1000);
    const expired = await rapport.app.inject({ method: 'POST', url: '/api/v1/email/confirmations/preview', payload: { token: fresh } });
    expect([expired.statusCode, expired.json().code]).toEqual([404, 'email.confirmation_not_found']);
    expect(await statusOf(a, inbox.id, 'late@link.test')).toBe('pending');

    // Per address across workspaces (3 a day here): a stranger's mailbox cannot be flooded from many
    // workspaces, and past the cap every workspace is answered as if sent (T3: a 429 would tell a
    // workspace that others claim the address, and lock its real owner out for a day).
    const victim = 'victim@flood.test';
    const answers: { status: number; keys: string[] }[] = [];
    const sent: { ws: TestWorkspace; id: string }[] = [];
    for (let i = 0; i < 5; i++) {
      const ws = await createTestWorkspace(rapport);
      const id = (await createIn(ws, { addresses: [victim] })).json().id;
      const r = await api(ws).post(`/inboxes/${id}/email/confirmations`, { address: victim });
      answers.push({ status: r.statusCode, keys: Object.keys(r.json()).sort() });
      expect(r.json().address).toBe(victim);
      sent.push({ ws, id });
    }
    expect(answers).toEqual(Array(5).fill({ status: 202, keys: ['address', 'expiresAt', 'sentAt'] }));
    // All five were decided and recorded; a link goes to the relay before its request is answered
    // (the sink holds it before its 250), so the sink's count is already final.
    expect((await systemQuery(rapport, 'select 1 from email_confirmation_sends where address = $1', [victim])).length).toBe(5);
    expect(sink.received.filter((m) => m.to.includes(victim))).toHaveLength(3);
    // The last workspace (the address's real owner, say) sees what any sender sees.
    const last = sent[4];
    expect((await ownership(last.ws, last.id)).items[0].confirmationSentAt).not.toBeNull();
    // The visible limit is per workspace and address: one minute apart, 3 a day; the 4th is a 429.
    for (let i = 0; i < 2; i++) {
      clock.advance(61_000);
      expect((await api(last.ws).post(`/inboxes/${last.id}/email/confirmations`, { address: victim })).statusCode).toBe(202);
    }
    clock.advance(61_000);
    const fourth = await api(last.ws).post(`/inboxes/${last.id}/email/confirmations`, { address: victim });
    expect([fourth.statusCode, fourth.json().code, fourth.headers['retry-after']]).toEqual([429, 'email.confirmation_throttled', '3600']);
    expect(fourth.headers['content-type']).toMatch(/^application\/problem\+json/);
    // A workspace that asked once is not throttled by the others' requests.
    const fresh2 = await createTestWorkspace(rapport);
    const freshId = (await createIn(fresh2, { addresses: [victim] })).json().id;
    expect((await api(fresh2).post(`/inboxes/${freshId}/email/confirmations`, { address: victim })).statusCode).toBe(202);
    expect(sink.received.filter((m) => m.to.includes(victim))).toHaveLength(3);
  });

  it('refuses an address the inbox does not list, and says so when the server has no relay', async () => {
    const inbox = (await createIn(a, { addresses: ['norelay@link.test'] }, 'No relay')).json();
    const other = await api(a).post(`/inboxes/${inbox.id}/email/confirmations`, { address: 'someone@else.test' });
    expect([other.statusCode, other.json().code]).toEqual([404, 'email.claim_not_found']);
    const deps = { pool: rapport.pool, clock, workspaceId: a.workspaceId, actor: { type: 'user' as const, id: a.owner.id } };
    await expect(
      sendAddressConfirmation({ ...deps, confirm: { mailer: null, publicUrl: 'http://x', ttlMs: 1000, perAddressPerDay: 3 } }, inbox.id, { address: 'norelay@link.test' }),
    ).rejects.toMatchObject({ code: 'email.confirmation_unavailable', status: 422 });
  });

  it('never mails a link to an address that routes to another workspace here; only the DNS proof takes it over', async () => {
    // V receives mail for a domain here: a verified catch-all, a verified address, and the base of a plus address.
    await createEmailInbox(rapport, a, { addresses: ['moved@takeover.test', 'sales@plus.takeover.test'], catchAllDomains: ['victim.test'] }, 'Old owner');
    const cases = [
      ['billing@victim.test', 'victim.test', 'the catch-all'],
      ['moved@takeover.test', 'takeover.test', 'the address'],
      ['sales+eu@plus.takeover.test', 'plus.takeover.test', 'the plus base'],
    ] as const;
    // A normal send to an unrouted address, for the shape of the answer.
    const control = (await createIn(b, { addresses: ['free@unrouted.test'] })).json();
    const normal = await api(b).post(`/inboxes/${control.id}/email/confirmations`, { address: 'free@unrouted.test' });
    const shape = (r: { statusCode: number; json: () => Record<string, unknown> }) => [r.statusCode, Object.keys(r.json()).sort()];
    for (const [address, domain, what] of cases) {
      const plus = address.includes('+');
      // Inboxes cannot list a "+" address (reply tokens); one stored before that rule still asks for a link.
      const theirs = (await createIn(b, { addresses: [plus ? `other@${domain}` : address] }, `X ${what}`)).json();
      if (plus) {
        await systemQuery(rapport, `insert into email_inbox_addresses (workspace_id, inbox_id, kind, value, domain) values ($1, $2, 'address', $3, $4)`, [b.workspaceId, theirs.id, address, domain]);
      }
      const before = sink.received.length;
      const res = await api(b).post(`/inboxes/${theirs.id}/email/confirmations`, { address });
      expect(shape(res), what).toEqual(shape(normal));
      expect(res.json().address).toBe(address);
      expect(res.body).not.toContain(a.workspaceId);
      expect((await ownership(b, theirs.id)).items.find((i: { value: string }) => i.value === address).confirmationSentAt, what).not.toBeNull();
      // Recorded as sent, and a mailed link would be at the sink before the request was answered.
      expect((await systemQuery(rapport, 'select 1 from email_confirmation_sends where workspace_id = $1 and address = $2', [b.workspaceId, address])).length, what).toBe(1);
      expect(sink.received.slice(before), what).toEqual([]);
      // Mail to the address still goes to V.
      expect(await deliveredTo(`keep-${domain}@customer.test`, address), what).toEqual([a.workspaceId]);
      // X proves the domain by DNS: that takes it over.
      zone.set(`_rapport.${domain}`, [[(await ownership(b, theirs.id)).dnsRecords[0].value]]);
      expect((await api(b).post(`/inboxes/${theirs.id}/email/domain-verifications`, { domain })).statusCode, what).toBe(200);
      expect(await deliveredTo(`move-${domain}@customer.test`, address), what).toEqual([b.workspaceId]);
    }
  });

  it('refuses a link mailed before the address came to route to another workspace', async () => {
    const theirs = (await createIn(b, { addresses: ['early@late-owner.test'] }, 'Early')).json();
    const before = sink.received.length;
    expect((await api(b).post(`/inboxes/${theirs.id}/email/confirmations`, { address: 'early@late-owner.test' })).statusCode).toBe(202);
    const token = await linkSentTo('early@late-owner.test', before);
    await createEmailInbox(rapport, a, { addresses: ['desk@late-owner.test'], catchAllDomains: ['late-owner.test'] }, 'Later owner');
    const res = await rapport.app.inject({ method: 'POST', url: '/api/v1/email/confirmations/accept', payload: { token } });
    expect([res.statusCode, res.json().code]).toEqual([404, 'email.confirmation_not_found']);
    expect(await deliveredTo('late1@customer.test', 'early@late-owner.test')).toEqual([a.workspaceId]);
  });
});

describe('proof by a DNS TXT record', () => {
  it('shows the record to publish, checks it through the resolver and verifies the domain’s claims', async () => {
    const inbox = (await createIn(a, { addresses: ['team@dns.test'], catchAllDomains: ['dns.test'] }, 'DNS')).json();
    const view = await ownership(a, inbox.id);
    const record = view.dnsRecords.find((r: { domain: string }) => r.domain === 'dns.test');
    expect(record).toMatchObject({ name: '_rapport.dns.test', pending: true });
    expect(record.value).toMatch(/^rapport-verification=[A-Za-z0-9_-]{24}$/);

    const missing = await api(a).post(`/inboxes/${inbox.id}/email/domain-verifications`, { domain: 'dns.test' });
    expect([missing.statusCode, missing.json().code]).toEqual([422, 'email.dns_record_not_found']);
    expect(missing.json().detail).toContain(record.value);
    // Another workspace's record on the domain proves nothing for this one.
    const bInbox = (await createIn(b, { addresses: ['team@dns.test'] })).json();
    const bRecord = (await ownership(b, bInbox.id)).dnsRecords[0].value;
    expect(bRecord).not.toBe(record.value);
    zone.set('_rapport.dns.test', [[bRecord]]);
    expect((await api(a).post(`/inboxes/${inbox.id}/email/domain-verifications`, { domain: 'dns.test' })).statusCode).toBe(422);
    expect(await rcptReply('anyone@dns.test')).toMatch(/^550 /);

    // Published (here split into two strings, as DNS tools do with long values), next to another record.
    const cut = record.value.length - 5;
    zone.set('_rapport.dns.test', [[bRecord], ['v=spf1 -all'], [record.value.slice(0, cut), record.value.slice(cut)]]);
    const ok = await api(a).post(`/inboxes/${inbox.id}/email/domain-verifications`, { domain: 'DNS.test' });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().items.map((i: { status: string; verifiedBy: string }) => [i.status, i.verifiedBy])).toEqual([
      ['verified', 'dns'],
      ['verified', 'dns'],
    ]);
    expect(await deliveredTo('dns1@customer.test', 'anyone@dns.test')).toEqual([a.workspaceId]);
  });

  it('accepts the record at the domain itself; a domain the inbox does not list is refused', async () => {
    const inbox = (await createIn(b, { addresses: ['help@apex.test'] }, 'Apex')).json();
    const record = (await ownership(b, inbox.id)).dnsRecords[0];
    zone.set('apex.test', [['v=spf1 -all'], [record.value]]);
    expect((await api(b).post(`/inboxes/${inbox.id}/email/domain-verifications`, { domain: 'apex.test' })).statusCode).toBe(200);
    expect(await statusOf(b, inbox.id, 'help@apex.test')).toBe('verified');
    const stranger = await api(b).post(`/inboxes/${inbox.id}/email/domain-verifications`, { domain: 'gmail.com' });
    expect([stranger.statusCode, stranger.json().code]).toEqual([404, 'email.claim_not_found']);
  });

  it('leaves one verified owner when two workspaces prove the same domain at once', async () => {
    for (let i = 0; i < 3; i++) {
      const domain = `race${i}.test`;
      const x = (await createIn(a, { addresses: [`desk@${domain}`] }, `race a ${i}`)).json();
      const y = (await createIn(b, { addresses: [`desk@${domain}`] }, `race b ${i}`)).json();
      zone.set(`_rapport.${domain}`, [[(await ownership(a, x.id)).dnsRecords[0].value], [(await ownership(b, y.id)).dnsRecords[0].value]]);
      const [p, q] = await Promise.all([api(a).post(`/inboxes/${x.id}/email/domain-verifications`, { domain }), api(b).post(`/inboxes/${y.id}/email/domain-verifications`, { domain })]);
      expect([p.statusCode, q.statusCode]).toEqual([200, 200]);
      const owners = await systemQuery<{ n: number }>(rapport, "select count(*)::int as n from email_inbox_addresses where value = $1 and status = 'verified'", [`desk@${domain}`]);
      expect(owners[0].n).toBe(1);
    }
  });
});
