import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addTestMember, client, createTestWorkspace, startWithWorkspace, tokenFor, type TestServer, type TestWorkspace } from '../../../test/helpers.js';
import { fixedClock } from '../../lib/clock.js';

/** One search for everything (issue #10): every status, customers, filters, tenancy, note privacy, pacing. */
const clock = fixedClock('2026-12-02T10:00:00Z');
let rapport: TestServer;
let ws: TestWorkspace;
let api: ReturnType<typeof client>;
let otherApi: ReturnType<typeof client>;

beforeAll(async () => {
  ({ rapport, ws, api } = await startWithWorkspace({ clock, config: { searchRateBurst: 1_000 } }));
  const other = await createTestWorkspace(rapport);
  otherApi = client(rapport, other.token, other.workspaceId);
});
afterAll(async () => rapport?.stop());

type Api = typeof api;
interface Found {
  conversations: {
    items: { id: string; number: number; status: string; snoozedUntil: string | null; customer: { id: string }; match: { kind: string | null; snippet: string | null } }[];
    nextCursor: string | null;
  };
  customers: { items: { id: string; name: string | null; email: string | null; phone: string | null; identities: { kind: string; value: string }[] }[] };
}
const open = async (a: Api, customer: Record<string, string>, subject: string, body: string) => {
  const res = await a.post('/conversations', { customer, subject, message: { body } });
  expect(res.statusCode).toBe(201);
  return res.json() as { id: string; number: number; customer: { id: string } };
};
const search = async (a: Api, params: Record<string, string | string[]>): Promise<Found> => {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) for (const one of [v].flat()) qs.append(k, one);
  const res = await a.get(`/search?${qs}`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
};
const ids = (f: Found) => f.conversations.items.map((c) => c.id).sort();

describe('the global search', () => {
  it('finds the conversations of a customer’s email in every status, and the customer beside them', async () => {
    const email = 'sol@every-status.test';
    const made: Record<string, string> = {};
    for (const status of ['open', 'pending', 'snoozed', 'resolved', 'closed']) {
      const c = await open(api, { email, name: 'Sol Status' }, `About ${status}`, 'hello');
      made[status] = c.id;
      if (status !== 'open') {
        const change = await api.patch(`/conversations/${c.id}`, status === 'snoozed' ? { status, snoozedUntil: '2026-12-05T09:00:00Z' } : { status });
        expect(change.statusCode).toBe(200);
      }
    }
    const all = await search(api, { q: 'Sol@Every-Status.test' });
    expect(ids(all)).toEqual(Object.values(made).sort());
    expect(all.conversations.items.every((c) => c.match.kind === 'customer')).toBe(true);
    const snoozed = all.conversations.items.find((c) => c.id === made.snoozed)!;
    expect([snoozed.status, snoozed.snoozedUntil]).toEqual(['snoozed', '2026-12-05T09:00:00.000Z']);
    expect(all.customers.items.map((c) => c.email)).toEqual([email]);
    // A status filter narrows; several statuses repeat the parameter.
    expect(ids(await search(api, { q: email, status: 'snoozed' }))).toEqual([made.snoozed]);
    expect(ids(await search(api, { q: email, status: ['resolved', 'closed'] }))).toEqual([made.resolved, made.closed].sort());
  });

  it('finds a customer by phone in another notation and by the start of a name, with their conversations', async () => {
    const c = await open(api, { phone: '+1 555 010 0199', name: 'Grace Hopper' }, 'Compiler question', 'Is COBOL supported?');
    const byPhone = await search(api, { q: '+1 (555) 010-0199' });
    expect(byPhone.customers.items.map((x) => x.id)).toEqual([c.customer.id]);
    expect(byPhone.customers.items[0].identities).toContainEqual(expect.objectContaining({ kind: 'phone', value: '+15550100199' }));
    expect(ids(byPhone)).toEqual([c.id]);
    const byName = await search(api, { q: 'grace' });
    expect(byName.customers.items.map((x) => x.name)).toEqual(['Grace Hopper']);
    expect(byName.conversations.items.map((x) => [x.id, x.match.kind])).toEqual([[c.id, 'customer']]);
  });

  it('finds a #number, subject words and message words, and quotes the message that holds them', async () => {
    const c = await open(api, { email: 'mo@words.test' }, 'Gearbox rattle', 'first message');
    await api.post(`/conversations/${c.id}/messages`, { type: 'reply', body: 'Please send a photo of the flux capacitor from below, thank you.' });
    const byNumber = await search(api, { q: `#${c.number}` });
    expect(byNumber.conversations.items.map((x) => [x.id, x.match.kind])).toEqual([[c.id, 'number']]);
    expect((await search(api, { q: 'gearbox' })).conversations.items.map((x) => [x.id, x.match.kind])).toEqual([[c.id, 'subject']]);
    const byWords = await search(api, { q: 'flux capacitor' });
    expect(byWords.conversations.items.map((x) => x.match.kind)).toEqual(['message']);
    expect(byWords.conversations.items[0].match.snippet).toMatch(/photo of the flux capacitor from below/);
    expect(byWords.customers.items).toEqual([]);
  });

  it('narrows by inbox, team, assignee, tag and last-activity dates', async () => {
    const team = (await api.post('/teams', { name: 'Returns desk' })).json();
    const agent = await addTestMember(rapport, ws, 'agent', 'Filter Agent');
    clock.set('2026-11-10T12:00:00Z');
    const old = await open(api, { email: 'fil@filters.test' }, 'Old parcel', 'parcel');
    clock.set('2026-12-02T10:00:00Z');
    const fresh = await open(api, { email: 'fil@filters.test' }, 'New parcel', 'parcel');
    expect((await api.patch(`/conversations/${fresh.id}`, { teamId: team.id, assigneeId: agent.id, tags: ['fragile'] })).statusCode).toBe(200);
    const q = 'fil@filters.test';
    expect(ids(await search(api, { q }))).toEqual([old.id, fresh.id].sort());
    expect(ids(await search(api, { q, inboxId: ws.inboxId }))).toEqual([old.id, fresh.id].sort());
    expect(ids(await search(api, { q, inboxId: randomUUID() }))).toEqual([]);
    expect(ids(await search(api, { q, teamId: team.id }))).toEqual([fresh.id]);
    expect(ids(await search(api, { q, teamId: 'none' }))).toEqual([old.id]);
    expect(ids(await search(api, { q, assigneeId: agent.id }))).toEqual([fresh.id]);
    expect(ids(await search(api, { q, assigneeId: 'none' }))).toEqual([old.id]);
    expect(ids(await search(api, { q, tag: 'fragile' }))).toEqual([fresh.id]);
    expect(ids(await search(api, { q, to: '2026-11-10' }))).toEqual([old.id]);
    expect(ids(await search(api, { q, from: '2026-11-11' }))).toEqual([fresh.id]);
    expect(ids(await search(api, { q, from: '2026-11-10T11:00:00Z', to: '2026-11-10T13:00:00Z' }))).toEqual([old.id]);
  });

  it('never shows another workspace’s customers or conversations, whatever the text', async () => {
    const mine = await open(api, { email: 'twin@tenants.test', name: 'Twin Mine' }, 'Tenant one', 'zorbleflax');
    const theirs = await open(otherApi, { email: 'twin@tenants.test', name: 'Twin Theirs', phone: '+44 20 7946 0000' }, 'Tenant two', 'zorbleflax');
    for (const q of ['twin@tenants.test', 'twin', 'zorbleflax', `#${theirs.number}`, '+44 20 7946 0000']) {
      const body = JSON.stringify(await search(api, { q }));
      expect(body, q).not.toContain(theirs.id);
      expect(body, q).not.toContain(theirs.customer.id);
      expect(body, q).not.toContain('Twin Theirs');
    }
    expect(ids(await search(api, { q: 'zorbleflax' }))).toEqual([mine.id]);
    expect(ids(await search(otherApi, { q: 'zorbleflax' }))).toEqual([theirs.id]);
  });

  it('shows a client viewer no internal note: a note’s words find nothing, and an excerpt never quotes one', async () => {
    const viewer = client(rapport, await tokenFor(rapport, ws, 'client_viewer'), ws.workspaceId);
    const c = await open(api, { email: 'nia@notes.test' }, 'Delivery', 'Where is my quokka plushie?');
    clock.advance(1_000);
    await api.post(`/conversations/${c.id}/messages`, { type: 'note', body: 'quokka supplier owes us: secretcanary42' });
    await api.post(`/conversations/${c.id}/messages`, { type: 'note', body: 'only in a note: hushword' });
    // The agent finds the note's word and sees the newest note quoted; the viewer sees the customer's words.
    expect((await search(api, { q: 'hushword' })).conversations.items.map((x) => x.id)).toEqual([c.id]);
    expect((await search(api, { q: 'quokka' })).conversations.items[0].match.snippet).toContain('secretcanary42');
    expect((await search(viewer, { q: 'hushword' })).conversations.items).toEqual([]);
    const seen = await search(viewer, { q: 'quokka' });
    expect(seen.conversations.items.map((x) => x.id)).toEqual([c.id]);
    expect(seen.conversations.items[0].match.snippet).toContain('Where is my quokka plushie');
    expect(JSON.stringify(seen)).not.toContain('secretcanary42');
  });

  it('refuses a bad date, a bad id and reversed dates with a coded problem in people’s words', async () => {
    const problems: [string, string, RegExp][] = [
      ['/search?q=x&from=yesterday', 'search.invalid_date', /"from" date should be a date like 2026-12-01/],
      ['/search?q=x&to=2026-02-30', 'search.invalid_date', /"to" date should be a date like/],
      ['/search?q=x&inboxId=inbox-1', 'search.invalid_filter', /inbox filter should be an inbox's id, not "inbox-1"/],
      ['/search?q=x&assigneeId=bob', 'search.invalid_filter', /assignee filter should be an agent's id \(or "none", "me"\)/],
      ['/search?q=x&from=2026-12-02&to=2026-12-01', 'search.invalid_range', /"from" date must come before the "to" date/],
      ['/search?q=%20%20', 'search.invalid_filter', /Type something to search for/],
    ];
    for (const [url, code, detail] of problems) {
      const res = await api.get(url);
      expect(res.statusCode, url).toBe(422);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json().code, url).toBe(code);
      expect(res.json().detail, url).toMatch(detail);
    }
  });
});

describe('global search pacing', () => {
  const pacedClock = fixedClock('2026-12-02T10:00:00Z');
  let paced: Awaited<ReturnType<typeof startWithWorkspace>>;
  beforeAll(async () => {
    paced = await startWithWorkspace({ clock: pacedClock, config: { searchRateBurst: 2, searchRatePerMinute: 6 } });
  });
  afterAll(async () => paced?.rapport.stop());

  it('costs one search per request (customers and conversations together) and answers 429 with Retry-After past the burst', async () => {
    expect((await paced.api.get('/search?q=kettle')).statusCode).toBe(200);
    expect((await paced.api.get('/search?q=kettle')).statusCode).toBe(200);
    const refused = await paced.api.get('/search?q=kettle');
    expect(refused.statusCode).toBe(429);
    expect(refused.json()).toMatchObject({ code: 'search.rate_limited', status: 429 });
    expect(refused.headers['retry-after']).toBe('10');
    pacedClock.advance(10_000);
    expect((await paced.api.get('/search?q=kettle')).statusCode).toBe(200);
  });
});
