import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, createTestWorkspace, eventually, startTestServer, type TestServer, type TestWorkspace } from '../../../../test/helpers.js';
import { createEmailInbox, sendRaw, smtpPortOf, systemQuery } from './email.testing.js';

/**
 * Issue #8 L8: bidirectional controls in names. "invoice<U+202E>fdp.exe" shows as "invoiceexe.pdf";
 * a display name with U+202E reverses what follows it in the agent's view. Every stored copy of a
 * name that came in by mail must be without them, not only the download header.
 */
const BIDI = ['\u061c', '\u200e', '\u200f', '\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2066', '\u2067', '\u2068', '\u2069'];
const BIDI_RE = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

let rapport: TestServer;
let a: TestWorkspace;
let seq = 0;

beforeAll(async () => {
  rapport = await startTestServer();
  a = await createTestWorkspace(rapport);
  await createEmailInbox(rapport, a, { addresses: ['help@a.test'] });
});
afterAll(async () => {
  await rapport?.stop();
});

const api = () => client(rapport, a.token, a.workspaceId);
/** RFC 2047 encoded-word: how a mail client writes a non-ASCII display name or file name. */
const word = (text: string) => `=?UTF-8?B?${Buffer.from(text).toString('base64')}?=`;
/** RFC 2231 parameter value: the other way a file name travels. */
const param = (text: string) => `UTF-8''${encodeURIComponent(text)}`;

async function deliver(headers: string[], body: string) {
  const id = `bidi${++seq}.${Date.now()}@customer.test`;
  await sendRaw(smtpPortOf(rapport), [...headers, `Message-ID: <${id}>`, 'Subject: names', 'MIME-Version: 1.0', body].join('\r\n'), { from: `eve${seq}@customer.test`, to: ['help@a.test'] });
  const row = await eventually(
    async () =>
      (await systemQuery<{ id: string; conversation_id: string; message_id: string }>(rapport, 'select id, conversation_id, message_id from email_messages where rfc_message_id = $1', [id]))[0],
  );
  return row;
}

describe('bidirectional controls in names that come in by mail', () => {
  it("are gone from attachment names, From/To/Cc display names and the customer's name, whichever of them and however encoded", async () => {
    for (const bidi of BIDI) {
      const n = seq + 1;
      const evil = `Eve${bidi}nav`;
      const row = await deliver(
        [
          `From: ${word(evil)} <eve${n}@customer.test>`,
          `To: "Help${bidi}desk" <help@a.test>`,
          `Cc: ${word(`Carl${bidi}x`)} <carl@customer.test>, "Dora${bidi}" <dora@customer.test>`,
          'Content-Type: multipart/mixed; boundary="b"',
        ],
        [
          '',
          '--b',
          'Content-Type: text/plain',
          '',
          'see attached',
          '--b',
          `Content-Type: application/octet-stream; name="${word(`invoice${bidi}fdp.exe`)}"`,
          `Content-Disposition: attachment; filename*=${param(`report${bidi}fdp.exe`)}`,
          'Content-Transfer-Encoding: base64',
          '',
          'aGVsbG8=',
          '--b',
          `Content-Type: application/octet-stream; name="${word(`scan${bidi}gpj.exe`)}"`,
          'Content-Transfer-Encoding: base64',
          '',
          'aGVsbG8=',
          '--b--',
          '',
        ].join('\r\n'),
      );

      const files = await systemQuery<{ filename: string }>(
        rapport,
        'select a.filename from email_attachments e join attachments a on a.workspace_id = e.workspace_id and a.id = e.id where e.email_message_id = $1 order by e.position',
        [row.id],
      );
      expect(files.map((f) => f.filename)).toEqual(['reportfdp.exe', 'scangpj.exe']);

      const message = (await api().get(`/conversations/${row.conversation_id}/messages`)).json().items[0];
      const meta = message.metadata.email;
      expect(meta.from.name).toBe('Evenav');
      expect(meta.to[0].name).toBe('Helpdesk');
      expect(meta.cc.map((c: { name: string }) => c.name)).toEqual(['Carlx', 'Dora']);
      expect(meta.attachments.map((f: { name: string }) => f.name)).toEqual(['reportfdp.exe', 'scangpj.exe']);
      expect(JSON.stringify(meta)).not.toMatch(BIDI_RE);

      const conversation = (await api().get(`/conversations/${row.conversation_id}`)).json();
      const customer = (await api().get(`/customers/${conversation.customer.id}`)).json();
      expect(customer.name).toBe('Evenav');

      const download = await api().get(`/email/attachments/${meta.attachments[0].id}`);
      expect(download.statusCode).toBe(200);
      expect(decodeURIComponent(String(download.headers['content-disposition']))).not.toMatch(BIDI_RE);
    }
  });
});
