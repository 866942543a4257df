import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, createTestWorkspace, startTestServer, type TestServer, type TestWorkspace } from '../../../../test/helpers.js';
import { createEmailInbox, sendMail, sendRaw, smtpDialog, smtpPortOf, systemQuery } from './email.testing.js';

let rapport: TestServer;
let ws: TestWorkspace;
let port: number;
let inboxId: string;

beforeAll(async () => {
  rapport = await startTestServer();
  ws = await createTestWorkspace(rapport);
  port = smtpPortOf(rapport);
  inboxId = (await createEmailInbox(rapport, ws, { addresses: ['support@acme.test'], catchAllDomains: ['help.acme.test'] })).id;
});
afterAll(async () => rapport?.stop());

const api = () => client(rapport, ws.token, ws.workspaceId);

describe('inbound SMTP', () => {
  it('turns an email into a customer, a conversation and a message, with its raw source kept', async () => {
    const info = await sendMail(port, {
      from: '"Ann Example" <ann@customer.test>',
      to: 'support@acme.test',
      cc: 'bob@customer.test',
      subject: 'My order is late',
      text: 'Hello, where is my order?\n\nOn Mon, 1 Jan 2026, Shop wrote:\n> Your order shipped',
      html: '<p>Hello, where is my order?</p><script>alert(1)</script>',
      attachments: [{ filename: 'invoice.pdf', content: Buffer.from('%PDF-1.4 fake') }],
    });
    expect(info.response).toMatch(/^250/);
    const list = (await api().get(`/conversations?inbox=${inboxId}`)).json();
    const c = list.items.find((x: { subject: string }) => x.subject === 'My order is late');
    expect(c).toBeTruthy();
    expect(c.customer).toMatchObject({ email: 'ann@customer.test', name: 'Ann Example' });
    expect(c.channel).toBe('email');
    const m = (await api().get(`/conversations/${c.id}/messages`)).json().items[0];
    expect(m.body).toBe('Hello, where is my order?');
    expect(m.html).not.toMatch(/script/);
    expect(m.metadata.email).toMatchObject({
      messageId: info.messageId.replace(/[<>]/g, '').toLowerCase(),
      from: { name: 'Ann Example', address: 'ann@customer.test' },
      to: [{ address: 'support@acme.test' }],
      cc: [{ address: 'bob@customer.test' }],
      subject: 'My order is late',
      parse: 'parsed',
      attachments: [{ name: 'invoice.pdf', size: 13, contentType: 'application/pdf' }],
    });
    expect(m.metadata.email.quoted).toMatch(/Your order shipped/);
    const raw = await api().get(`/email/messages/${m.id}/raw`);
    expect(raw.statusCode).toBe(200);
    expect(raw.body).toContain('Subject: My order is late');
  });

  it('refuses unknown recipients at RCPT TO with 550, and accepts a catch-all domain', async () => {
    const replies = await smtpDialog(port, ['EHLO test', 'MAIL FROM:<x@customer.test>', 'RCPT TO:<nobody@acme.test>', 'RCPT TO:<anyone@help.acme.test>', 'QUIT']);
    expect(replies.some((l) => l.startsWith('550 5.1.1'))).toBe(true);
    expect(replies.filter((l) => l.startsWith('250 ')).length).toBeGreaterThanOrEqual(2);
  });

  it('stores the same Message-ID and body once, whether retried or delivered concurrently (E2)', async () => {
    const raw = ['From: Carl <carl@customer.test>', 'To: support@acme.test', 'Subject: Twice', 'Message-ID: <twice-1@customer.test>', '', 'Same body', ''].join('\r\n');
    const envelope = { from: 'carl@customer.test', to: ['support@acme.test'] };
    await sendRaw(port, raw, envelope);
    // A relay added a trace header to the retry: still the same message.
    await sendRaw(port, `Received: from relay.test by mx\r\n${raw}`, envelope);
    await Promise.all([1, 2, 3, 4].map(() => sendRaw(port, raw, envelope)));
    const rows = await systemQuery(rapport, "select count(*)::int as n from email_messages where rfc_message_id = 'twice-1@customer.test'");
    expect(rows[0].n).toBe(1);
    const messages = await systemQuery(rapport, "select count(*)::int as n from messages where workspace_id = $1 and metadata -> 'email' ->> 'messageId' = 'twice-1@customer.test'", [ws.workspaceId]);
    expect(messages[0].n).toBe(1);
  });

  it('refuses a message over the size limit with 552', async () => {
    const big = `From: a@customer.test\r\nTo: support@acme.test\r\nSubject: big\r\n\r\n${'x'
      .repeat(1000)
      .concat('\r\n')
      .repeat(26 * 1024)}`;
    await expect(sendRaw(port, big, { from: 'a@customer.test', to: ['support@acme.test'] })).rejects.toMatchObject({ responseCode: 552 });
  });

  it('keeps a hostile subject and display name as text (E4, E5)', async () => {
    const raw = [
      'From: "<img src=x onerror=alert(1)>" <evil@customer.test>',
      'To: support@acme.test',
      'Subject: =?utf-8?B?PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==?=',
      'Message-ID: <xss-1@customer.test>',
      '',
      'hi',
      '',
    ].join('\r\n');
    await sendRaw(port, raw, { from: 'evil@customer.test', to: ['support@acme.test'] });
    const c = (await api().get('/conversations?q=evil@customer.test')).json().items[0];
    expect(c.subject).toBe('<script>alert(1)</script>');
    expect(c.customer.name).toBe('<img src=x onerror=alert(1)>');
  });
});
