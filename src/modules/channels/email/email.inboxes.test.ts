import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, createTestWorkspace, eventually, startTestServer, type TestServer, type TestWorkspace } from '../../../../test/helpers.js';
import { createEmailInbox, sendRaw, smtpPortOf, systemQuery } from './email.testing.js';

let rapport: TestServer;
let a: TestWorkspace;
let b: TestWorkspace;

beforeAll(async () => {
  rapport = await startTestServer();
  a = await createTestWorkspace(rapport);
  b = await createTestWorkspace(rapport);
});
afterAll(async () => rapport?.stop());

const createIn = (ws: TestWorkspace, settings: Record<string, unknown>, name = 'Inbox') =>
  client(rapport, ws.token, ws.workspaceId).post('/inboxes', { name, channel: 'email', settings });

describe('email inbox addresses', () => {
  it('refuses an address or catch-all domain another workspace receives mail for, with one generic 409', async () => {
    await createEmailInbox(rapport, a, { addresses: ['support@claim.test'], catchAllDomains: ['help.claim.test'] }, 'A secret inbox name');
    const attempts = [
      { addresses: ['Support@Claim.TEST'] },
      { addresses: ['new@b.test'], catchAllDomains: ['HELP.claim.test'] },
      // Inside A's catch-all domain, or a catch-all over A's address: each would take A's mail.
      { addresses: ['someone@help.claim.test'] },
      { addresses: ['new@b.test'], catchAllDomains: ['claim.test'] },
    ];
    for (const settings of attempts) {
      const res = await createIn(b, settings);
      expect(res.statusCode, JSON.stringify(settings)).toBe(409);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json().code).toBe('email.address_taken');
      expect(res.body).not.toContain(a.workspaceId);
      expect(res.body).not.toContain('A secret inbox name');
      expect(res.body).not.toContain('claim.test');
    }
    // Nothing of the refused inboxes was kept.
    expect((await client(rapport, b.token, b.workspaceId).get('/inboxes')).json().items.filter((i: { channel: string }) => i.channel === 'email')).toHaveLength(0);
    // Another address at the same domain is fine (two workspaces may share a mail provider).
    expect((await createIn(b, { addresses: ['other@claim.test'] })).statusCode).toBe(201);
    // The same workspace cannot route one address to two inboxes either.
    expect((await createIn(a, { addresses: ['support@claim.test'] }, 'A again')).statusCode).toBe(409);
    // Mail still goes where it went.
    const port = smtpPortOf(rapport);
    await sendRaw(port, 'From: c@customer.test\r\nTo: support@claim.test\r\nSubject: hi\r\nMessage-ID: <claim1@customer.test>\r\n\r\nhello\r\n', { from: 'c@customer.test', to: ['support@claim.test'] });
    const rows = await eventually(async () => systemQuery<{ workspace_id: string }>(rapport, "select workspace_id from email_messages where rfc_message_id = 'claim1@customer.test'").then((r) => (r.length ? r : null)));
    expect(rows.map((r) => r.workspace_id)).toEqual([a.workspaceId]);
  });

  it('lets only one of two concurrent claims of the same address or domain succeed', async () => {
    for (let i = 0; i < 5; i++) {
      const [x, y] = await Promise.all([createIn(a, { addresses: [`race${i}@race.test`] }), createIn(b, { addresses: [`race${i}@race.test`] })]);
      expect([x.statusCode, y.statusCode].sort()).toEqual([201, 409]);
      const [p, q] = await Promise.all([
        createIn(a, { addresses: [`x${i}@a-race.test`], catchAllDomains: [`d${i}.race.test`] }),
        createIn(b, { addresses: [`anyone@d${i}.race.test`] }),
      ]);
      expect([p.statusCode, q.statusCode].sort()).toEqual([201, 409]);
    }
    const owners = await systemQuery<{ value: string; n: number }>(rapport,
      "select value, count(distinct workspace_id)::int as n from email_inbox_addresses where value like 'race%' group by value");
    expect(owners.every((o) => o.n === 1)).toBe(true);
  });
});
