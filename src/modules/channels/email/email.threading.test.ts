import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addTestMember, client, createTestWorkspace, eventually, startTestServer, type TestServer, type TestWorkspace } from '../../../../test/helpers.js';
import { emailRuntimeOf } from './email.module.js';
import { checkByMailServer } from './email.authentication.js';
import { createEmailInbox, sendMail, sendRaw, smtpPortOf, startSink, systemQuery } from './email.testing.js';

let rapport: TestServer;
let a: TestWorkspace;
let b: TestWorkspace;
let port: number;
let sink: Awaited<ReturnType<typeof startSink>>;
let inboxA: string;
let seq = 0;

beforeAll(async () => {
  rapport = await startTestServer();
  sink = await startSink();
  a = await createTestWorkspace(rapport);
  b = await createTestWorkspace(rapport);
  port = smtpPortOf(rapport);
  inboxA = (await createEmailInbox(rapport, a, { addresses: ['help@a.test'], fromName: 'A Support', smtp: { host: '127.0.0.1', port: sink.port, tls: 'none' } })).id;
  await createEmailInbox(rapport, b, { addresses: ['help@b.test'], smtp: { host: '127.0.0.1', port: sink.port, tls: 'none' } });
});
afterAll(async () => {
  await rapport?.stop();
  await sink?.close();
});

const apiA = () => client(rapport, a.token, a.workspaceId);
const apiB = () => client(rapport, b.token, b.workspaceId);

function raw(headers: Record<string, string>, body = 'text') {
  const id = headers['Message-ID'] ?? `<m${++seq}.${Date.now()}@customer.test>`;
  return [...Object.entries({ ...headers, 'Message-ID': id }).map(([k, v]) => `${k}: ${v}`), '', body, ''].join('\r\n');
}

interface Conversation {
  id: string;
  number: number;
  status: string;
  customer: { id: string; email: string };
}

async function conversationOfMessage(api: ReturnType<typeof client>, rfcId: string): Promise<Conversation> {
  return eventually<Conversation>(async () => {
    const rows = await systemQuery<{ conversation_id: string; workspace_id: string }>(
      rapport,
      "select conversation_id, workspace_id from email_messages where rfc_message_id = $1 and direction = 'inbound'",
      [rfcId.replace(/[<>]/g, '')],
    );
    return rows[0] ? (await api.get(`/conversations/${rows[0].conversation_id}`)).json() : null;
  });
}

/** A customer writes; returns the conversation and the Message-ID of the first email. */
async function start(from = 'ann@customer.test', extra: Record<string, string> = {}) {
  const id = `<start${++seq}@customer.test>`;
  await sendRaw(port, raw({ From: `Ann <${from}>`, To: 'help@a.test', Subject: `Question ${seq}`, 'Message-ID': id, ...extra }), { from, to: ['help@a.test'] });
  return { conversation: await conversationOfMessage(apiA(), id), messageId: id };
}

/** An agent answers; returns what the customer received. */
async function agentReplies(conversationId: string, body = 'Our answer') {
  const before = sink.received.length;
  const res = await apiA().post(`/conversations/${conversationId}/messages`, { type: 'reply', body });
  expect(res.statusCode).toBe(201);
  const got = await eventually(async () => sink.received.slice(before).find((r) => r.raw.includes(body)), 15_000);
  return { messageId: res.json().id as string, raw: got.raw, replyTo: /^Reply-To: .*<([^>]+)>/m.exec(got.raw)?.[1] ?? '', sentId: /^Message-ID: (<[^>]+>)/m.exec(got.raw)![1] };
}

describe('threading inbound email into conversations', () => {
  it('joins a reply through In-Reply-To to the Message-ID Rapport sent', async () => {
    const { conversation } = await start();
    const reply = await agentReplies(conversation.id);
    const id = `<r${++seq}@customer.test>`;
    await sendRaw(port, raw({ From: 'ann@customer.test', To: 'help@a.test', Subject: 'Re: whatever', 'In-Reply-To': reply.sentId, 'Message-ID': id }), {
      from: 'ann@customer.test',
      to: ['help@a.test'],
    });
    expect((await conversationOfMessage(apiA(), id)).id).toBe(conversation.id);
  });

  it('joins through References when a client rewrote In-Reply-To (Outlook)', async () => {
    const { conversation, messageId } = await start();
    const id = `<r${++seq}@customer.test>`;
    await sendRaw(port, raw({ From: 'ann@customer.test', To: 'help@a.test', Subject: 'RE: x', 'In-Reply-To': '<unknown@outlook.test>', References: `<other@x.test> ${messageId}`, 'Message-ID': id }), {
      from: 'ann@customer.test',
      to: ['help@a.test'],
    });
    expect((await conversationOfMessage(apiA(), id)).id).toBe(conversation.id);
  });

  it('joins through the Thread-Index root when References are gone', async () => {
    const root = Buffer.alloc(22, 7);
    const { conversation } = await start('tia@customer.test', { 'Thread-Index': root.toString('base64') });
    const id = `<r${++seq}@customer.test>`;
    await sendRaw(port, raw({ From: 'tia@customer.test', To: 'help@a.test', Subject: 'RE: x', 'Thread-Index': Buffer.concat([root, Buffer.alloc(5, 1)]).toString('base64'), 'Message-ID': id }), {
      from: 'tia@customer.test',
      to: ['help@a.test'],
    });
    expect((await conversationOfMessage(apiA(), id)).id).toBe(conversation.id);
  });

  it('joins through the secret reply address alone, and reopens a resolved conversation', async () => {
    const { conversation } = await start();
    const reply = await agentReplies(conversation.id);
    expect(reply.replyTo).toMatch(/^help\+[a-z2-7]{26}@a\.test$/);
    await apiA().patch(`/conversations/${conversation.id}`, { status: 'resolved' });
    const id = `<r${++seq}@customer.test>`;
    await sendRaw(port, raw({ From: 'ann@customer.test', To: reply.replyTo, Subject: 'new words', 'Message-ID': id }), { from: 'ann@customer.test', to: [reply.replyTo] });
    const joined = await conversationOfMessage(apiA(), id);
    expect(joined.id).toBe(conversation.id);
    expect(joined.status).toBe('open');
    const events = (await apiA().get(`/conversations/${conversation.id}/events`)).json().items.map((e: { type: string; data: { to?: string } }) => `${e.type}:${e.data.to ?? ''}`);
    expect(events).toContain('conversation.status_changed:open');
  });

  it("lets someone Cc'd on the thread reply into it as a participant, without changing the customer", async () => {
    const { conversation, messageId } = await start('ann@customer.test', { Cc: 'Bob <bob@customer.test>' });
    const id = `<r${++seq}@customer.test>`;
    await sendRaw(port, raw({ From: 'Bob <bob@customer.test>', To: 'help@a.test', Subject: 'Re: x', 'In-Reply-To': messageId, 'Message-ID': id }), { from: 'bob@customer.test', to: ['help@a.test'] });
    const joined = await conversationOfMessage(apiA(), id);
    expect(joined.id).toBe(conversation.id);
    expect(joined.customer.email).toBe('ann@customer.test');
    const last = (await apiA().get(`/conversations/${conversation.id}/messages?order=desc&limit=1`)).json().items[0];
    expect(last.metadata.email).toMatchObject({ participant: true, threadedBy: 'in_reply_to' });
    expect(last.author.type).toBe('customer');
    expect(last.author.id).not.toBe(conversation.customer.id);
  });

  it("never threads a stranger who cites a Message-ID into someone else's conversation (E6)", async () => {
    const { conversation, messageId } = await start();
    const id = `<r${++seq}@attacker.test>`;
    await sendRaw(port, raw({ From: 'mallory@attacker.test', To: 'help@a.test', Subject: 'Re: x', 'In-Reply-To': messageId, 'Message-ID': id }), {
      from: 'mallory@attacker.test',
      to: ['help@a.test'],
    });
    const other = await conversationOfMessage(apiA(), id);
    expect(other.id).not.toBe(conversation.id);
    expect(other.customer.email).toBe('mallory@attacker.test');
  });

  it("never threads by another workspace's Message-ID, nor by a guessed [#number] subject (E7)", async () => {
    const { conversation, messageId } = await start();
    const id1 = `<b${++seq}@customer.test>`;
    await sendRaw(port, raw({ From: 'ann@customer.test', To: 'help@b.test', Subject: `Re: [#${conversation.number}]`, 'In-Reply-To': messageId, References: messageId, 'Message-ID': id1 }), {
      from: 'ann@customer.test',
      to: ['help@b.test'],
    });
    const inB = await conversationOfMessage(apiB(), id1);
    expect(inB.id).not.toBe(conversation.id);
    expect((await apiA().get(`/conversations/${inB.id}`)).statusCode).toBe(404);
    const id2 = `<g${++seq}@customer.test>`;
    await sendRaw(port, raw({ From: 'ann@customer.test', To: 'help@a.test', Subject: `[#${conversation.number}] guessed`, 'Message-ID': id2 }), { from: 'ann@customer.test', to: ['help@a.test'] });
    expect((await conversationOfMessage(apiA(), id2)).id).not.toBe(conversation.id);
    // A's reply token used at B's address does nothing either.
    const reply = await agentReplies(conversation.id);
    const token = reply.replyTo.split('+')[1].split('@')[0];
    const id3 = `<t${++seq}@customer.test>`;
    await sendRaw(port, raw({ From: 'ann@customer.test', To: `help+${token}@b.test`, Subject: 'x', 'Message-ID': id3 }), { from: 'ann@customer.test', to: [`help+${token}@b.test`] });
    const inB2 = await conversationOfMessage(apiB(), id3);
    expect(inB2.id).not.toBe(conversation.id);
  });

  it("lets an address Cc'd on a threaded reply answer into the thread as a participant, never as the customer", async () => {
    const { conversation } = await start('ann@customer.test');
    const reply = await agentReplies(conversation.id);
    // Ann answers the agent and copies Carol in.
    const annId = `<r${++seq}@customer.test>`;
    await sendRaw(port, raw({ From: 'ann@customer.test', To: 'help@a.test', Cc: 'Carol <carol@customer.test>', Subject: 'Re: x', 'In-Reply-To': reply.sentId, 'Message-ID': annId }), {
      from: 'ann@customer.test',
      to: ['help@a.test'],
    });
    expect((await conversationOfMessage(apiA(), annId)).id).toBe(conversation.id);
    const participants = await systemQuery<{ address: string }>(rapport, 'select address from email_participants where conversation_id = $1', [conversation.id]);
    expect(participants.map((p) => p.address)).toContain('carol@customer.test');
    expect(participants.map((p) => p.address)).not.toContain('help@a.test');
    // Carol answers Ann's email (no reply token): she joins the thread, Ann stays its customer.
    const carolId = `<r${++seq}@customer.test>`;
    await sendRaw(port, raw({ From: 'Carol <carol@customer.test>', To: 'help@a.test', Subject: 'Re: x', 'In-Reply-To': annId, References: `${reply.sentId} ${annId}`, 'Message-ID': carolId }), {
      from: 'carol@customer.test',
      to: ['help@a.test'],
    });
    const joined = await conversationOfMessage(apiA(), carolId);
    expect(joined.id).toBe(conversation.id);
    expect(joined.customer.email).toBe('ann@customer.test');
    const last = (await apiA().get(`/conversations/${conversation.id}/messages?order=desc&limit=1`)).json().items[0];
    expect(last.metadata.email).toMatchObject({ participant: true, threadedBy: 'in_reply_to' });
    // Carol citing another customer's thread does not get into it.
    const { conversation: dans, messageId: dansFirst } = await start('dan@customer.test');
    const strayId = `<r${++seq}@customer.test>`;
    await sendRaw(port, raw({ From: 'carol@customer.test', To: 'help@a.test', Subject: 'Re: y', 'In-Reply-To': dansFirst, 'Message-ID': strayId }), {
      from: 'carol@customer.test',
      to: ['help@a.test'],
    });
    const stray = await conversationOfMessage(apiA(), strayId);
    expect(stray.id).not.toBe(dans.id);
    expect(stray.id).not.toBe(conversation.id);
    expect(stray.customer.email).toBe('carol@customer.test');
  });

  it('attributes a forwarded message/rfc822 to its original sender when a member of the workspace forwards it', async () => {
    const sam = await addTestMember(rapport, a, 'agent', 'sam');
    const original = raw({ From: 'Olga Original <olga@customer.test>', To: sam.email, Subject: 'broken kettle', Date: 'Mon, 2 Nov 2026 10:00:00 +0000' }, 'My kettle broke');
    const info = await sendMail(port, {
      from: sam.email,
      to: 'help@a.test',
      subject: 'Fwd: broken kettle',
      text: 'See below',
      attachments: [{ filename: 'forwarded.eml', content: original, contentType: 'message/rfc822' }],
    });
    const c = await conversationOfMessage(apiA(), info.messageId);
    expect(c.customer.email).toBe('olga@customer.test');
    const m = (await apiA().get(`/conversations/${c.id}/messages`)).json().items[0];
    expect(m.metadata.email).toMatchObject({ forwardedBy: { address: sam.email }, unverified: true });
  });

  it("keeps a forward by someone outside the workspace as that person's own message", async () => {
    const original = raw({ From: 'Olga Original <olga@customer.test>', To: 'x@elsewhere.test', Subject: 'not mine' }, 'Something Olga never sent us');
    const info = await sendMail(port, {
      from: 'mallory@attacker.test',
      to: 'help@a.test',
      subject: 'Fwd: not mine',
      text: 'See below',
      attachments: [{ filename: 'forwarded.eml', content: original, contentType: 'message/rfc822' }],
    });
    const c = await conversationOfMessage(apiA(), info.messageId);
    expect(c.customer.email).toBe('mallory@attacker.test');
    const m = (await apiA().get(`/conversations/${c.id}/messages`)).json().items[0];
    expect(m.metadata.email.forwardedBy).toBeUndefined();
    // An inline "Forwarded message" block from a stranger is not read as a forward either.
    const id = `<f${++seq}@attacker.test>`;
    await sendRaw(
      port,
      raw(
        { From: 'mallory@attacker.test', To: 'help@a.test', Subject: 'Fwd: x', 'Message-ID': id },
        'FYI\r\n\r\n---------- Forwarded message ---------\r\nFrom: Olga <olga@customer.test>\r\nSubject: x\r\n\r\nhello',
      ),
      { from: 'mallory@attacker.test', to: ['help@a.test'] },
    );
    expect((await conversationOfMessage(apiA(), id)).customer.email).toBe('mallory@attacker.test');
  });

  it("keeps a message that fails DMARC out of the customer's conversation, flagged, and trusts none of its Cc list (E6)", async () => {
    const { conversation, messageId } = await start('ceo@customer.test');
    const id = `<s${++seq}@customer.test>`;
    // Sent through the attacker's own domain (its SPF passes), in the CEO's name: DMARC fails.
    await sendRaw(
      port,
      raw(
        {
          From: 'ceo@customer.test',
          To: 'help@a.test',
          Cc: 'attacker@evil.test',
          Subject: 'Re: x',
          'In-Reply-To': messageId,
          References: messageId,
          'Message-ID': id,
        },
        'Please wire the money today',
      ),
      { from: 'attacker@evil.test', to: ['help@a.test'] },
    );
    const spoofed = await conversationOfMessage(apiA(), id);
    expect(spoofed.id).not.toBe(conversation.id);
    const first = (await apiA().get(`/conversations/${spoofed.id}/messages`)).json().items[0];
    expect(first.metadata.email.unverified).toBe(true);
    expect(first.metadata.email.authentication).toMatchObject({ verdict: 'failed', by: 'rapport' });
    expect(first.metadata.email.threadedBy).toBeUndefined();
    const history = (await apiA().get(`/conversations/${conversation.id}/messages`)).json().items;
    expect(history).toHaveLength(1);
    expect(JSON.stringify(history)).not.toContain('wire the money');
    const participants = await systemQuery<{ address: string }>(rapport, 'select address from email_participants where conversation_id = any($1::uuid[])', [[conversation.id, spoofed.id]]);
    expect(participants.map((p) => p.address)).not.toContain('attacker@evil.test');
    // The attacker cannot reply into either thread.
    const id2 = `<s${++seq}@evil.test>`;
    await sendRaw(port, raw({ From: 'attacker@evil.test', To: 'help@a.test', Subject: 'Re: x', References: `${messageId} ${id}`, 'Message-ID': id2 }), {
      from: 'attacker@evil.test',
      to: ['help@a.test'],
    });
    const theirs = await conversationOfMessage(apiA(), id2);
    expect([conversation.id, spoofed.id]).not.toContain(theirs.id);
    expect(inboxA).toBeTruthy();
  });

  it('believes only the topmost Authentication-Results, and only with the configured authserv-id', async () => {
    const source = [
      'Authentication-Results: mx.a.test; dmarc=fail header.from=customer.test',
      'Authentication-Results: (forged by the sender) relay.evil.test; dmarc=pass',
      'Authentication-Results: mx.a.test (comment dmarc=pass); spf=pass',
      'From: ceo@customer.test',
      'To: help@a.test',
      'Subject: x',
      'Message-ID: <auth1@customer.test>',
      '',
      'hi',
      '',
    ].join('\r\n');
    const parsed = await emailRuntimeOf(rapport.server).parser.parse(Buffer.from(source));
    expect(parsed.authResults).toEqual([
      { authservId: 'mx.a.test', dmarc: 'fail' },
      { authservId: 'relay.evil.test', dmarc: 'pass' },
      { authservId: 'mx.a.test', dmarc: null },
    ]);
    expect(checkByMailServer(parsed.authResults, 'MX.A.TEST').verdict).toBe('failed');
    // Only the topmost header counts: a lower one, even with a trusted id, is the sender's writing.
    expect(checkByMailServer(parsed.authResults, 'relay.evil.test').verdict).toBe('unverified');
    expect(checkByMailServer(parsed.authResults.slice(1), 'relay.evil.test').verdict).toBe('verified');
    expect(checkByMailServer(parsed.authResults.slice(1), 'mx.a.test').verdict).toBe('unverified');
    expect(checkByMailServer(parsed.authResults.slice(2), 'mx.a.test').verdict).toBe('unverified');
    expect(checkByMailServer([], 'mx.a.test').verdict).toBe('unverified');
  });
});
