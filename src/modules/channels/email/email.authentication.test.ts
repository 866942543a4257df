import { generateKeyPairSync } from 'node:crypto';
import { dkimSign } from 'mailauth';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeDns } from '../../../lib/dns.testing.js';
import { client, createTestWorkspace, eventually, startTestServer, type TestServer, type TestWorkspace } from '../../../../test/helpers.js';
import { SenderChecker, checkByMailServer, checkSender } from './email.authentication.js';
import { emailRuntimeOf } from './email.module.js';
import { ingestEmail, routeRecipient } from './email.service.js';
import { createEmailInbox, smtpPortOf, startSink, systemQuery } from './email.testing.js';

/**
 * Issue #8 M5: a forged From line must not join a customer's thread. Rapport checks SPF, DKIM and
 * DMARC itself against recorded DNS (the client IP is the test's own: 127.0.0.1, or 127.0.0.2 for
 * "another machine", both loopback addresses this host answers from).
 */
const dkimKeys = generateKeyPairSync('rsa', { modulusLength: 2048 });
const dkimPublic = (dkimKeys.publicKey.export({ type: 'spki', format: 'der' }) as Buffer).toString('base64');
const dns = fakeDns({
  // good.test sends only from 127.0.0.1 and asks receivers to reject the rest.
  'good.test': { TXT: [['v=spf1 ip4:127.0.0.1 -all']] },
  '_dmarc.good.test': { TXT: [['v=DMARC1; p=reject']] },
  // signed.test lists no server at all: only its DKIM signature can vouch for it.
  'signed.test': { TXT: [['v=spf1 -all']] },
  '_dmarc.signed.test': { TXT: [['v=DMARC1; p=reject']] },
  'sel._domainkey.signed.test': { TXT: [['v=DKIM1; k=rsa; p=', dkimPublic]] },
  // The attacker's own domain is in order: its mail is from it, not from good.test.
  'evil.test': { TXT: [['v=spf1 ip4:127.0.0.0/8 -all']] },
  // plain.test publishes nothing: its mail cannot be verified either way.
  'plain.test': { A: ['192.0.2.1'] },
});

let rapport: TestServer;
let a: TestWorkspace;
let sink: Awaited<ReturnType<typeof startSink>>;
let port: number;
let seq = 0;

beforeAll(async () => {
  rapport = await startTestServer({ dns });
  sink = await startSink();
  a = await createTestWorkspace(rapport);
  port = smtpPortOf(rapport);
  await createEmailInbox(rapport, a, { addresses: ['help@a.test'], fromName: 'A Support', smtp: { host: '127.0.0.1', port: sink.port, tls: 'none' } });
});
afterAll(async () => {
  await rapport?.stop();
  await sink?.close();
});

const api = () => client(rapport, a.token, a.workspaceId);

function raw(headers: Record<string, string>, body = 'text') {
  const all = { 'Message-ID': `<m${++seq}.${Date.now()}@mail.test>`, To: 'help@a.test', Subject: `Subject ${seq}`, ...headers };
  return [...Object.entries(all).map(([k, v]) => `${k}: ${v}`), '', body, ''].join('\r\n');
}

/** Delivers as a mail server on `ip` (a loopback address) saying EHLO `helo` would. */
async function deliver(source: string, envelope: { from: string; to?: string[] }, ip = '127.0.0.1', helo = 'mx.sender.test') {
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true, localAddress: ip, name: helo, connectionTimeout: 5000 });
  try {
    await transport.sendMail({ envelope: { from: envelope.from, to: envelope.to ?? ['help@a.test'] }, raw: source });
  } finally {
    transport.close();
  }
  return /^Message-ID: (<[^>]+>)/m.exec(source)![1];
}

interface Stored {
  conversationId: string;
  customerEmail: string;
  email: { unverified?: boolean; threadedBy?: string; authentication?: { verdict: string; reason: string; by: string } };
}

async function stored(messageId: string): Promise<Stored> {
  return eventually<Stored>(async () => {
    const rows = await systemQuery<{ conversation_id: string; message_id: string }>(
      rapport,
      "select conversation_id, message_id from email_messages where rfc_message_id = $1 and direction = 'inbound'",
      [messageId.replace(/[<>]/g, '')],
    );
    if (!rows[0]) return null;
    const conversation = (await api().get(`/conversations/${rows[0].conversation_id}`)).json();
    const messages = (await api().get(`/conversations/${rows[0].conversation_id}/messages?limit=100`)).json().items as { id: string; metadata: { email: Stored['email'] } }[];
    return { conversationId: conversation.id, customerEmail: conversation.customer.email, email: messages.find((m) => m.id === rows[0].message_id)!.metadata.email };
  });
}

/** A verified customer conversation: ann@good.test writes from the address her domain lists. */
async function customerConversation(from = 'ann@good.test') {
  const id = await deliver(raw({ From: `Ann <${from}>` }, 'My order is late'), { from }, '127.0.0.1');
  const first = await stored(id);
  expect(first.email.authentication).toMatchObject({ verdict: 'verified', by: 'rapport' });
  expect(first.email.unverified).toBeUndefined();
  return { conversationId: first.conversationId, messageId: id };
}

async function historyOf(conversationId: string): Promise<string> {
  return JSON.stringify((await api().get(`/conversations/${conversationId}/messages?limit=100`)).json().items);
}

describe('who sent an inbound email (SPF, DKIM, DMARC checked by Rapport)', () => {
  it("keeps a forged reply without Authentication-Results out of the customer's thread, and says why", async () => {
    const { conversationId, messageId } = await customerConversation();
    // Same From, same MAIL FROM, but sent from 127.0.0.2, which good.test does not list.
    const forged = await deliver(
      raw({ From: 'Ann <ann@good.test>', 'In-Reply-To': messageId, References: messageId, Cc: 'mallory@evil.test' }, 'Please send the refund to my new account'),
      { from: 'ann@good.test' },
      '127.0.0.2',
    );
    const got = await stored(forged);
    expect(got.conversationId).not.toBe(conversationId);
    expect(got.email.unverified).toBe(true);
    expect(got.email.authentication?.verdict).toBe('failed');
    expect(got.email.authentication?.reason).toContain('SPF failed for good.test: sent from 127.0.0.2 which the domain does not list');
    expect(await historyOf(conversationId)).not.toContain('refund');
    const participants = await systemQuery<{ address: string }>(rapport, 'select address from email_participants where conversation_id = any($1::uuid[])', [[conversationId, got.conversationId]]);
    expect(participants.map((p) => p.address)).not.toContain('mallory@evil.test');
  });

  it('ignores an Authentication-Results header the sender wrote, even a topmost "dmarc=pass"', async () => {
    const { conversationId, messageId } = await customerConversation();
    for (const header of ['rapport; dmarc=pass header.from=good.test', 'mx.a.test; spf=pass smtp.mailfrom=good.test; dkim=pass header.d=good.test; dmarc=pass header.from=good.test']) {
      const forged = await deliver(raw({ 'Authentication-Results': header, From: 'ann@good.test', 'In-Reply-To': messageId }, 'forged with a pass'), { from: 'ann@good.test' }, '127.0.0.2');
      const got = await stored(forged);
      expect(got.conversationId).not.toBe(conversationId);
      expect(got.email.authentication?.verdict).toBe('failed');
    }
    expect(await historyOf(conversationId)).not.toContain('forged with a pass');
  });

  it('threads a reply whose SPF passes for the client IP, and refuses the same reply from an IP the domain does not list', async () => {
    const { conversationId, messageId } = await customerConversation();
    const genuine = await deliver(raw({ From: 'ann@good.test', 'In-Reply-To': messageId }, 'Any news?'), { from: 'ann@good.test' }, '127.0.0.1');
    const ok = await stored(genuine);
    expect(ok.conversationId).toBe(conversationId);
    expect(ok.email).toMatchObject({ threadedBy: 'in_reply_to', authentication: { verdict: 'verified' } });
    expect(ok.email.authentication?.reason).toBe('DMARC passed for good.test: SPF passed for good.test: sent from 127.0.0.1, which the domain lists.');
    const other = await stored(await deliver(raw({ From: 'ann@good.test', 'In-Reply-To': messageId }, 'Any news? (other IP)'), { from: 'ann@good.test' }, '127.0.0.2'));
    expect(other.conversationId).not.toBe(conversationId);
  });

  it("flags a DMARC failure: the attacker's own SPF passes but does not speak for the From domain", async () => {
    const { conversationId, messageId } = await customerConversation();
    const forged = await deliver(raw({ From: 'Ann <ann@good.test>', 'In-Reply-To': messageId }, 'DMARC should stop this'), { from: 'bounce@evil.test' }, '127.0.0.1');
    const got = await stored(forged);
    expect(got.conversationId).not.toBe(conversationId);
    expect(got.customerEmail).toBe('ann@good.test');
    expect(got.email.authentication?.verdict).toBe('failed');
    expect(got.email.authentication?.reason).toMatch(/^DMARC failed for good\.test: .*SPF passed for evil\.test/);
  });

  it('verifies a real DKIM signature (SPF fails, DMARC passes through DKIM), and refuses the message once altered', async () => {
    const sign = async (source: string) => {
      // mailauth reads signatureData (its type declarations name only the single-signature form).
      const options = { signatureData: [{ signingDomain: 'signed.test', selector: 'sel', privateKey: dkimKeys.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string }] };
      const { signatures } = await dkimSign(source, options as unknown as Parameters<typeof dkimSign>[1]);
      return signatures + source;
    };
    const first = await stored(await deliver(await sign(raw({ From: 'Dee <dee@signed.test>' }, 'Signed question'))!, { from: 'dee@signed.test' }));
    expect(first.email.authentication).toMatchObject({ verdict: 'verified', reason: 'DMARC passed for signed.test: a DKIM signature by signed.test verified.' });
    const firstId = (await systemQuery<{ rfc_message_id: string }>(rapport, 'select rfc_message_id from email_messages where conversation_id = $1', [first.conversationId]))[0].rfc_message_id;
    const reply = await sign(raw({ From: 'dee@signed.test', 'In-Reply-To': `<${firstId}>` }, 'Signed follow-up'));
    const ok = await stored(await deliver(reply, { from: 'dee@signed.test' }));
    expect(ok.conversationId).toBe(first.conversationId);
    expect(ok.email.authentication?.verdict).toBe('verified');
    // A signed message whose body someone changed on the way: the signature no longer verifies.
    const altered = (await sign(raw({ From: 'dee@signed.test', 'In-Reply-To': `<${firstId}>` }, 'Pay invoice 1'))).replace('Pay invoice 1', 'Pay invoice 2');
    const bad = await stored(await deliver(altered, { from: 'dee@signed.test' }));
    expect(bad.conversationId).not.toBe(first.conversationId);
    expect(bad.email.authentication?.verdict).toBe('failed');
    expect(bad.email.authentication?.reason).toContain('the DKIM signature by signed.test did not verify (body hash did not verify)');
  });

  it('lets unverified mail join only through the secret reply token: its In-Reply-To alone opens a new conversation', async () => {
    // plain.test publishes no SPF, DKIM or DMARC: nothing proves or disproves Nora.
    const firstId = await deliver(raw({ From: 'Nora <nora@plain.test>' }, 'Hello from an unverifiable domain'), { from: 'nora@plain.test' });
    const first = await stored(firstId);
    expect(first.email).toMatchObject({ unverified: true, authentication: { verdict: 'unverified' } });
    expect(first.email.authentication?.reason).toContain('plain.test publishes no DMARC policy');
    const before = sink.received.length;
    expect((await api().post(`/conversations/${first.conversationId}/messages`, { type: 'reply', body: 'Agent answer to Nora' })).statusCode).toBe(201);
    const sent = await eventually(async () => sink.received.slice(before).find((r) => r.raw.includes('Agent answer to Nora')), 15_000);
    const replyTo = /^Reply-To: .*<([^>]+)>/m.exec(sent.raw)![1];
    const sentId = /^Message-ID: (<[^>]+>)/m.exec(sent.raw)![1];
    // Through the token: joins, still flagged, and brings nobody else in.
    const byToken = await stored(await deliver(raw({ From: 'nora@plain.test', To: replyTo, Cc: 'stranger@evil.test', 'In-Reply-To': sentId }, 'Thanks!'), { from: 'nora@plain.test', to: [replyTo] }));
    expect(byToken.conversationId).toBe(first.conversationId);
    expect(byToken.email).toMatchObject({ threadedBy: 'reply_token', unverified: true });
    const participants = await systemQuery<{ address: string }>(rapport, 'select address from email_participants where conversation_id = $1', [first.conversationId]);
    expect(participants.map((p) => p.address)).not.toContain('stranger@evil.test');
    // Citing the thread's Message-IDs without the token: a new, flagged conversation.
    const byId = await stored(await deliver(raw({ From: 'nora@plain.test', 'In-Reply-To': sentId, References: `${firstId} ${sentId}` }, 'Without the token'), { from: 'nora@plain.test' }));
    expect(byId.conversationId).not.toBe(first.conversationId);
    expect(byId.email.unverified).toBe(true);
    // Mail that fails DMARC does not get in even with the token (it may have leaked in a quote).
    const forged = await stored(await deliver(raw({ From: 'ann@good.test', To: replyTo }, 'forged with the token'), { from: 'ann@good.test', to: [replyTo] }, '127.0.0.2'));
    expect(forged.email.authentication?.verdict).toBe('failed');
    expect(forged.conversationId).not.toBe(first.conversationId);
  });

  it("treats IMAP mail as unverified unless the trusted mail server's Authentication-Results is on top", async () => {
    const { conversationId, messageId } = await customerConversation();
    const target = (await routeRecipient(rapport.pool, 'help@a.test'))!;
    const deps = { pool: rapport.pool, clock: rapport.server.clock, log: rapport.server.log, parser: emailRuntimeOf(rapport.server).parser };
    const fetched = raw({ 'Authentication-Results': 'mx.a.test; dmarc=pass header.from=good.test', From: 'ann@good.test', 'In-Reply-To': messageId }, 'fetched over IMAP');
    const noServer = await ingestEmail(deps, { raw: Buffer.from(fetched), via: 'imap', target, envelopeFrom: null, envelopeTo: [] });
    const got = await stored(/^Message-ID: (<[^>]+>)/m.exec(fetched)![1]);
    expect(got.conversationId).toBe(noServer.conversationId);
    expect(got.conversationId).not.toBe(conversationId);
    expect(got.email.authentication).toMatchObject({ verdict: 'unverified', by: 'none' });
    expect(got.email.authentication?.reason).toContain('Fetched over IMAP');
    expect(got.email.threadedBy).toBeUndefined();
    // With EMAIL_AUTHSERV_ID = mx.a.test: a pass on top from that server is believed ...
    const trusted = { ...deps, authservId: 'mx.a.test' };
    const passed = raw({ 'Authentication-Results': 'mx.a.test; dmarc=pass header.from=good.test', From: 'ann@good.test', 'In-Reply-To': messageId }, 'checked by mx.a.test');
    await ingestEmail(trusted, { raw: Buffer.from(passed), via: 'imap', target, envelopeFrom: null, envelopeTo: [] });
    expect((await stored(/^Message-ID: (<[^>]+>)/m.exec(passed)![1])).email).toMatchObject({ threadedBy: 'in_reply_to', authentication: { verdict: 'verified', by: 'mail_server' } });
    // ... but not when something else is on top, whatever a lower header claims.
    const withBelow = raw({ 'Authentication-Results': 'spamfilter.a.test; spam=no', From: 'ann@good.test', 'In-Reply-To': messageId }, 'mx.a.test below').replace(
      /^(Authentication-Results: spamfilter[^\r]*\r\n)/m,
      '$1Authentication-Results: mx.a.test; dmarc=pass\r\n',
    );
    expect(withBelow).toContain('spam=no\r\nAuthentication-Results: mx.a.test; dmarc=pass\r\n');
    await ingestEmail(trusted, { raw: Buffer.from(withBelow), via: 'imap', target, envelopeFrom: null, envelopeTo: [] });
    expect((await stored(/^Message-ID: (<[^>]+>)/m.exec(withBelow)![1])).email.authentication?.verdict).toBe('unverified');
  });
});

describe('checking a sender within bounds', () => {
  it('gives up on DNS that does not answer, within the time limit, as unverified', async () => {
    const silent = fakeDns({}, { delayMs: 60_000 });
    const started = Date.now();
    const check = await checkSender(Buffer.from(raw({ From: 'x@slow.test' })), { ip: '127.0.0.1', helo: 'mx.slow.test', mailFrom: 'x@slow.test' }, { resolver: silent, timeoutMs: 300 });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(check).toMatchObject({ verdict: 'unverified', reason: expect.stringContaining('took longer than') });
  });

  it('answers from the worker thread within the time limit when DNS stays silent, and checks again afterwards', async () => {
    const checker = new SenderChecker({ resolver: fakeDns({}, { delayMs: 60_000 }), timeoutMs: 300 });
    try {
      const check = await checker.check(Buffer.from(raw({ From: 'x@slow.test' })), { ip: '127.0.0.1', helo: 'mx.slow.test', mailFrom: 'x@slow.test' });
      expect(check).toMatchObject({ verdict: 'unverified', reason: expect.stringContaining('took longer than') });
    } finally {
      await checker.close();
    }
    const working = new SenderChecker({ resolver: dns, timeoutMs: 5_000 });
    try {
      const check = await working.check(Buffer.from(raw({ From: 'ann@good.test' })), { ip: '::ffff:127.0.0.1', helo: 'mx.good.test', mailFrom: 'ann@good.test' });
      expect(check).toMatchObject({ verdict: 'verified', reason: 'DMARC passed for good.test: SPF passed for good.test: sent from 127.0.0.1, which the domain lists.' });
    } finally {
      await working.close();
    }
  });

  it('believes only the topmost Authentication-Results, and only from the configured authserv-id', () => {
    expect(checkByMailServer([{ authservId: 'mx.a.test', dmarc: 'pass' }], 'MX.A.TEST').verdict).toBe('verified');
    expect(checkByMailServer([{ authservId: 'mx.a.test', dmarc: 'fail' }], 'mx.a.test').verdict).toBe('failed');
    expect(checkByMailServer([{ authservId: 'mx.a.test', dmarc: 'none' }], 'mx.a.test').verdict).toBe('unverified');
    expect(
      checkByMailServer(
        [
          { authservId: 'relay.evil.test', dmarc: 'pass' },
          { authservId: 'mx.a.test', dmarc: 'pass' },
        ],
        'mx.a.test',
      ).verdict,
    ).toBe('unverified');
    expect(checkByMailServer([], 'mx.a.test').verdict).toBe('unverified');
  });
});
