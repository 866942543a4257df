import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, createTestWorkspace, eventually, startTestServer, type TestServer, type TestWorkspace } from '../../../../test/helpers.js';
import { emailRuntimeOf } from './email.module.js';
import { contentDisposition } from './email.routes.js';
import { createEmailInbox, sendMail, sendRaw, smtpPortOf, systemQuery } from './email.testing.js';

let rapport: TestServer;
let ws: TestWorkspace;
let other: TestWorkspace;
let port: number;
let seq = 0;

beforeAll(async () => {
  rapport = await startTestServer();
  ws = await createTestWorkspace(rapport);
  other = await createTestWorkspace(rapport);
  port = smtpPortOf(rapport);
  await createEmailInbox(rapport, ws, { addresses: ['in@parse.test'] });
});
afterAll(async () => rapport?.stop());

const api = () => client(rapport, ws.token, ws.workspaceId);
const CRLF = '\r\n';

async function deliver(raw: string | Buffer) {
  const id = `p${++seq}.${Date.now()}@sender.test`;
  const source = typeof raw === 'string' ? raw.replace('{{ID}}', `<${id}>`) : raw;
  const info = await sendRaw(port, source, { from: 'sender@sender.test', to: ['in@parse.test'] });
  expect(info.response).toMatch(/^250/);
  return id;
}

async function messageOf(rfcId: string) {
  const rows = await eventually(async () => {
    const r = await systemQuery<{ message_id: string; conversation_id: string; parse_status: string; parse_error: string | null }>(
      rapport,
      'select message_id, conversation_id, parse_status, parse_error from email_messages where rfc_message_id = $1',
      [rfcId],
    );
    return r.length ? r : null;
  });
  expect(rows).toHaveLength(1);
  const items = (await api().get(`/conversations/${rows[0].conversation_id}/messages`)).json().items;
  return { row: rows[0], message: items.find((m: { id: string }) => m.id === rows[0].message_id) };
}

describe('character sets and MIME details (E9)', () => {
  it('decodes ISO-2022-JP bodies and subjects', async () => {
    const esc = (codes: number[]) => Buffer.from([0x1b, 0x24, 0x42, ...codes, 0x1b, 0x28, 0x42]);
    const konnichiwa = esc([0x24, 0x33, 0x24, 0x73, 0x24, 0x4b, 0x24, 0x41, 0x24, 0x4f]);
    const head = [
      'From: taro@sender.test',
      'To: in@parse.test',
      `Subject: =?ISO-2022-JP?B?${konnichiwa.toString('base64')}?=`,
      'Message-ID: {{ID}}',
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=ISO-2022-JP',
      'Content-Transfer-Encoding: 7bit',
      '',
      '',
    ].join(CRLF);
    const id = `jp${Date.now()}@sender.test`;
    await deliver(Buffer.concat([Buffer.from(head.replace('{{ID}}', `<${id}>`)), konnichiwa, Buffer.from(CRLF)]));
    const { message } = await messageOf(id);
    expect(message.body).toBe('こんにちは');
    expect(message.metadata.email.subject).toBe('こんにちは');
  });

  it('reads RFC 2231 continued and encoded filenames, and keeps winmail.dat as an attachment', async () => {
    const raw = [
      'From: a@sender.test',
      'To: in@parse.test',
      'Subject: files',
      'Message-ID: {{ID}}',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="b1"',
      '',
      '--b1',
      'Content-Type: text/plain',
      '',
      'see attached',
      '--b1',
      'Content-Type: application/pdf',
      'Content-Transfer-Encoding: base64',
      "Content-Disposition: attachment; filename*0*=UTF-8''Rechnung%20f%C3%BCr%20; filename*1*=M%C3%A4rz.pdf",
      '',
      Buffer.from('%PDF').toString('base64'),
      '--b1',
      'Content-Type: application/ms-tnef; name="winmail.dat"',
      'Content-Transfer-Encoding: base64',
      'Content-Disposition: attachment; filename="winmail.dat"',
      '',
      Buffer.from([0x78, 0x9f, 0x3e, 0x22, 0x01, 0x00]).toString('base64'),
      '--b1--',
      '',
    ].join(CRLF);
    const id = await deliver(raw);
    const { message } = await messageOf(id);
    expect(message.metadata.email.attachments.map((a: { name: string; contentType: string }) => [a.name, a.contentType])).toEqual([
      ['Rechnung für März.pdf', 'application/pdf'],
      ['winmail.dat', 'application/ms-tnef'],
    ]);
  });

  it('keeps a message with a missing final boundary, mixed line ends, an unknown charset and 8-bit headers', async () => {
    const raw = Buffer.concat([
      Buffer.from(['From: =?x-unknown?Q?Odd?= <odd@sender.test>', 'To: in@parse.test', 'Subject: caf\xe9', 'Message-ID: {{ID}}'].join('\n').replace('{{ID}}', `<odd${++seq}@sender.test>`), 'latin1'),
      Buffer.from(
        `${CRLF}MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=zz${CRLF}${CRLF}--zz\nContent-Type: text/plain; charset=x-nonsense\n\nbody text\r\n--zz\r\nContent-Type: text/plain\r\n\r\nsecond part, never closed\r\n`,
      ),
    ]);
    await sendRaw(port, raw, { from: 'odd@sender.test', to: ['in@parse.test'] });
    const { message, row } = await messageOf(`odd${seq}@sender.test`);
    expect(row.parse_status).toBe('parsed');
    expect(message.body).toContain('body text');
  });

  it('sanitizes hostile HTML bodies server-side (E3)', async () => {
    const html =
      '<p>hi</p><script>alert(1)</script><img src=x onerror=alert(2)><svg onload=alert(3)></svg><a href="javascript:alert(4)">x</a>' +
      '<iframe srcdoc="<script>alert(5)</script>"></iframe><form action="https://evil.test"><input></form><meta http-equiv="refresh" content="0;url=https://evil.test">' +
      '<div style="background:url(https://evil.test/t.png)">s</div>';
    const info = await sendMail(port, { from: 'h@sender.test', to: 'in@parse.test', subject: 'html', html });
    const { message } = await messageOf(info.messageId.slice(1, -1).toLowerCase());
    expect(message.html).toContain('<p>hi</p>');
    expect(message.html).not.toMatch(/script|onerror|onload|javascript:|iframe|<form|<meta|url\(/i);
  });
});

describe('hostile input stays bounded (E8, E10)', () => {
  it('parses a display name of "<a" and 200,000 "@" in an encoded word in under a second', async () => {
    const name = Buffer.from(`<a${'@'.repeat(200_000)}`).toString('base64');
    const raw = [`From: =?utf-8?B?${name}?= <slow@sender.test>`, 'To: in@parse.test', 'Subject: slow name', 'Message-ID: <e10@sender.test>', '', 'x', ''].join(CRLF);
    const parser = emailRuntimeOf(rapport.server).parser;
    const started = performance.now();
    const parsed = await parser.parse(Buffer.from(raw));
    expect(performance.now() - started).toBeLessThan(1000);
    expect(parsed.messageId).toBe('e10@sender.test');
    const t0 = performance.now();
    await sendRaw(port, raw, { from: 'slow@sender.test', to: ['in@parse.test'] });
    expect(performance.now() - t0).toBeLessThan(3000);
    await messageOf('e10@sender.test');
  });

  it('stores MIME bombs raw and unparsed (1,100 parts; a 1.1 MB header; 50 nested messages) and stays healthy', async () => {
    const parts = Array.from({ length: 1100 }, (_, i) => `--b${CRLF}Content-Type: text/plain${CRLF}${CRLF}part ${i}`).join(CRLF);
    const manyParts = ['From: bomb@sender.test', 'To: in@parse.test', 'Subject: parts', 'Message-ID: {{ID}}', 'Content-Type: multipart/mixed; boundary="b"', '', parts, '--b--', ''].join(CRLF);
    const a = await deliver(manyParts);
    const bigHeader = [
      'From: bomb@sender.test',
      'To: in@parse.test',
      'Subject: header',
      'Message-ID: {{ID}}',
      ...Array.from({ length: 11_000 }, (_, i) => `X-Filler-${i}: ${'y'.repeat(90)}`),
      '',
      'body',
      '',
    ].join(CRLF);
    const b = await deliver(bigHeader);
    let nested = 'From: deep@sender.test\r\nSubject: bottom\r\n\r\nbottom';
    for (let i = 0; i < 50; i++) nested = `From: deep@sender.test${CRLF}Subject: level ${i}${CRLF}Content-Type: message/rfc822${CRLF}${CRLF}${nested}`;
    const c = await deliver(nested.replace('Subject: level 49', 'To: in@parse.test\r\nMessage-ID: {{ID}}\r\nSubject: level 49'));
    for (const [id, reason] of [
      [a, 'too_many_parts'],
      [b, 'header_too_large'],
      [c, 'too_deep'],
    ]) {
      const { row, message } = await messageOf(id);
      expect(row.parse_status, id).toBe('unparsed');
      expect(row.parse_error, id).toBe(reason);
      expect(message.metadata.email.parse).toBe('unparsed');
      expect((await api().get(`/email/messages/${message.id}/raw`)).statusCode).toBe(200);
    }
    const ok = await sendMail(port, { from: 'fine@sender.test', to: 'in@parse.test', subject: 'fine', text: 'still fine' });
    expect(ok.response).toMatch(/^250/);
  });

  it('inlines no data: URLs for 1,500 cid: references to a 300 KB image', async () => {
    const image = Buffer.alloc(300 * 1024, 1);
    const html = Array.from({ length: 1500 }, () => '<img src="cid:pic@x">').join('');
    const info = await sendMail(port, { from: 'cid@sender.test', to: 'in@parse.test', subject: 'cids', html, attachments: [{ filename: 'pic.png', content: image, cid: 'pic@x' }] });
    const { message } = await messageOf(info.messageId.slice(1, -1).toLowerCase());
    expect(message.html.length).toBeLessThan(100_000);
    expect(message.html).not.toContain('data:');
    expect(message.metadata.email.attachments).toHaveLength(1);
  });

  it('refuses a 30 MB single-line base64 body with 552 before storing anything', async () => {
    const raw = `From: huge@sender.test\r\nTo: in@parse.test\r\nSubject: huge\r\nMessage-ID: <huge@sender.test>\r\nContent-Transfer-Encoding: base64\r\n\r\n${'QUFB'.repeat(30 * 1024 * 256)}\r\n`;
    await expect(sendRaw(port, raw, { from: 'huge@sender.test', to: ['in@parse.test'] })).rejects.toMatchObject({ responseCode: 552 });
    expect(await systemQuery(rapport, "select 1 from email_messages where rfc_message_id = 'huge@sender.test'")).toHaveLength(0);
  }, 30_000);
});

describe('attachment downloads (F1, F2, F3)', () => {
  it('serves every attachment as a download: RFC 6266 name, nosniff, CSP sandbox; 404 from another workspace', async () => {
    const names = ['../../etc/passwd', '<img src=x onerror=alert(1)>.png', 'x\u202Egnp.exe', 'a'.repeat(300), 'x.svg'];
    const info = await sendMail(port, {
      from: 'files@sender.test',
      to: 'in@parse.test',
      subject: 'files',
      text: 'see',
      attachments: names.map((filename, i) => ({
        filename,
        content: i === 4 ? '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>' : `file ${i}`,
        contentType: i === 4 ? 'image/svg+xml' : 'application/octet-stream',
      })),
    });
    const { message } = await messageOf(info.messageId.slice(1, -1).toLowerCase());
    const attachments = message.metadata.email.attachments as { id: string; name: string }[];
    expect(attachments).toHaveLength(5);
    expect(attachments[0].name).toBe('../../etc/passwd');
    for (const a of attachments) {
      const res = await api().get(`/email/attachments/${a.id}`);
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('application/octet-stream');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['content-security-policy']).toMatch(/^sandbox/);
      const disposition = String(res.headers['content-disposition']);
      expect(disposition).toMatch(/^attachment; filename="[^"\\/]*"; filename\*=UTF-8''/);
      expect(disposition).not.toMatch(/[<>\u202E]/);
    }
    const svg = await api().get(`/email/attachments/${attachments[4].id}`);
    expect(svg.body).toContain('onload');
    const foreign = await client(rapport, other.token, other.workspaceId).get(`/email/attachments/${attachments[0].id}`);
    expect(foreign.statusCode).toBe(404);
    const crossPath = await client(rapport, other.token, other.workspaceId).get(`/api/v1/workspaces/${ws.workspaceId}/email/attachments/${attachments[0].id}`);
    expect([403, 404]).toContain(crossPath.statusCode);
    const anonymous = await rapport.app.inject({ method: 'GET', url: `/api/v1/workspaces/${ws.workspaceId}/email/attachments/${attachments[0].id}` });
    expect([401, 404]).toContain(anonymous.statusCode);
    expect(contentDisposition('../../etc/passwd')).toBe(`attachment; filename=".._.._etc_passwd"; filename*=UTF-8''..%2F..%2Fetc%2Fpasswd`);
  });
});
