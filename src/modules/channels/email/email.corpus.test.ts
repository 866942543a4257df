import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, createTestWorkspace, startTestServer, type TestServer, type TestWorkspace } from '../../../../test/helpers.js';
import { createEmailInbox, sendMail, sendRaw, smtpPortOf, systemQuery } from './email.testing.js';

/**
 * SECURITY E9: every message of the shared corpus (mailparser, postal-mime and Stalwart test
 * messages, many malformed) goes through the real SMTP path, each to its own inbox, and is stored
 * exactly once with its raw source, or refused with an SMTP code. Then the server still works.
 */
const corpusDir = path.resolve(process.cwd(), '../shared/corpus/email');
const files = readdirSync(corpusDir)
  .filter((f) => f.endsWith('.eml'))
  .sort();

let rapport: TestServer;
let ws: TestWorkspace;
let port: number;
const inboxOf = new Map<string, string>();
const addressOf = (i: number) => `corpus${i}@corpus.test`;

beforeAll(async () => {
  rapport = await startTestServer();
  ws = await createTestWorkspace(rapport);
  port = smtpPortOf(rapport);
  for (let i = 0; i < files.length; i++) inboxOf.set(files[i], (await createEmailInbox(rapport, ws, { addresses: [addressOf(i)] }, `corpus ${i}`)).id);
}, 120_000);
afterAll(async () => rapport?.stop());

/** Line endings are the wire's business (SMTP is CRLF); the bytes otherwise must be the file's. */
const normalize = (b: Buffer) => b.toString('latin1').replace(/\r/g, '').replace(/\n+$/, '');

describe('the shared email corpus through SMTP', () => {
  it(`stores each of the ${files.length} messages exactly once with its raw source, or refuses it with a code`, async () => {
    const outcomes: { file: string; outcome: string }[] = [];
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < files.length; i = next++) {
        const file = files[i];
        const raw = readFileSync(path.join(corpusDir, file));
        try {
          const info = await sendRaw(port, raw, { from: 'corpus@sender.test', to: [addressOf(i)] });
          outcomes.push({ file, outcome: info.response.slice(0, 3) });
        } catch (error) {
          const code = (error as { responseCode?: number }).responseCode;
          outcomes.push({ file, outcome: code ? String(code) : `error ${(error as Error).message}` });
        }
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    // Nothing failed without an SMTP answer.
    expect(outcomes.filter((o) => !/^\d{3}$/.test(o.outcome))).toEqual([]);
    for (const { file, outcome } of outcomes) {
      const rows = await systemQuery<{ content: Buffer; parse_status: string; message_id: string | null }>(
        rapport,
        `select b.content, e.parse_status, e.message_id from email_messages e join blobs b on b.workspace_id = e.workspace_id and b.sha256 = e.raw_sha256
         where e.inbox_id = $1`,
        [inboxOf.get(file)],
      );
      if (outcome === '250') {
        expect(rows, file).toHaveLength(1);
        expect(normalize(rows[0].content), file).toBe(normalize(readFileSync(path.join(corpusDir, file))));
        expect(rows[0].message_id, file).not.toBeNull();
      } else {
        expect(Number(outcome), file).toBeGreaterThanOrEqual(400);
        expect(rows, file).toHaveLength(0);
      }
    }
    const accepted = outcomes.filter((o) => o.outcome === '250').length;
    // The corpus is meant to be accepted: refusals are the exception (and each has its code).
    expect(accepted).toBeGreaterThanOrEqual(files.length - 5);
    const unparsed = await systemQuery<{ parse_error: string }>(rapport, "select parse_error from email_messages where workspace_id = $1 and parse_status = 'unparsed'", [ws.workspaceId]);
    console.log(
      `corpus: ${accepted}/${files.length} accepted; refused: ${JSON.stringify(outcomes.filter((o) => o.outcome !== '250'))}; stored raw but unparsed: ${JSON.stringify(unparsed.map((u) => u.parse_error))}`,
    );
  }, 90_000);

  it('parses the same message the same way twice (deterministic results)', async () => {
    const { emailRuntimeOf } = await import('./email.module.js');
    const parser = emailRuntimeOf(rapport.server).parser;
    for (const file of files.slice(0, 40)) {
      const raw = readFileSync(path.join(corpusDir, file));
      const a = await parser.parse(raw);
      const b = await parser.parse(raw);
      expect(JSON.stringify({ ...a, attachments: a.attachments.map((x) => x.sha256) }), file).toBe(JSON.stringify({ ...b, attachments: b.attachments.map((x) => x.sha256) }));
    }
  });

  it('still serves ordinary mail and the API afterwards', async () => {
    const info = await sendMail(port, { from: 'after@customer.test', to: addressOf(0), subject: 'after the corpus', text: 'still here' });
    expect(info.response).toMatch(/^250/);
    const res = await client(rapport, ws.token, ws.workspaceId).get('/conversations?q=after@customer.test');
    expect(res.json().items[0].subject).toBe('after the corpus');
  });
});
