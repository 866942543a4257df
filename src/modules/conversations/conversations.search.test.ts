import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, createTestWorkspace, startWithWorkspace, tokenFor, type TestServer, type TestWorkspace } from '../../../test/helpers.js';
import type { Queryable } from '../../db/pool.js';
import { withWorkspace } from '../../db/tenancy.js';
import { fixedClock } from '../../lib/clock.js';
import { conversationsRepository } from './conversations.repository.js';
import { searchPage, searchWords } from './conversations.search.service.js';

/** Search (issue #8, M7): what it finds, that it stays in its workspace, bounded plans, pacing. */
let rapport: TestServer;
let ws: TestWorkspace;
let api: ReturnType<typeof client>;
let other: TestWorkspace;
let otherApi: ReturnType<typeof client>;

beforeAll(async () => {
  ({ rapport, ws, api } = await startWithWorkspace({ config: { searchRateBurst: 1_000 } }));
  other = await createTestWorkspace(rapport);
  otherApi = client(rapport, other.token, other.workspaceId);
});
afterAll(async () => rapport?.stop());

type Api = typeof api;
const open = async (a: Api, subject: string, body: string, email: string) => {
  const res = await a.post('/conversations', { customer: { email, name: email.split('@')[0] }, subject, message: { body } });
  expect(res.statusCode).toBe(201);
  return res.json() as { id: string; number: number; customer: { id: string } };
};
const found = async (a: Api, q: string) => {
  const res = await a.get(`/conversations?q=${encodeURIComponent(q)}&limit=100`);
  expect(res.statusCode).toBe(200);
  return (res.json().items as { id: string }[]).map((c) => c.id).sort();
};

describe('conversation search', () => {
  it('finds subject words, message words, a customer identity and a #number, in this workspace only', async () => {
    const kettle = await open(api, 'Broken kettle', 'The lid came off.', 'kim@example.test');
    const zeppelin = await open(api, 'Question', 'Can a zeppelin be delivered?', 'zed@example.test');
    // The other workspace holds the same words, the same customer email and the same numbers.
    const theirs = await open(otherApi, 'Broken kettle', 'A zeppelin too.', 'kim@example.test');
    expect(theirs.number).toBe(kettle.number);

    expect(await found(api, 'kettle')).toEqual([kettle.id]);
    expect(await found(api, 'ZEPPELIN')).toEqual([zeppelin.id]);
    expect(await found(api, 'Kim@Example.test')).toEqual([kettle.id]);
    expect(await found(api, `#${zeppelin.number}`)).toEqual([zeppelin.id]);
    expect(await found(api, 'nothing-like-this')).toEqual([]);
    expect(await found(api, '%_\\ !?')).toEqual([]); // no words at all
    expect(await found(otherApi, 'kettle')).toEqual([theirs.id]);
    expect(await found(otherApi, 'zeppelin')).toEqual([theirs.id]);
  });

  it('finds a reply, and a renamed subject by its new words only', async () => {
    const c = await open(api, 'Invoice copy', 'Please send it again.', 'ivy@example.test');
    await api.post(`/conversations/${c.id}/messages`, { type: 'reply', body: 'Attached the duplicate.' });
    expect(await found(api, 'duplicate')).toEqual([c.id]);
    expect((await api.patch(`/conversations/${c.id}`, { subject: 'Receipt request' })).statusCode).toBe(200);
    expect(await found(api, 'receipt')).toEqual([c.id]);
    expect(await found(api, 'invoice')).toEqual([]);
  });
});

describe('each step of a search is bounded, and the answer is the same as a full read', () => {
  /** Pages through a search with small bounds, as the HTTP layer does with the real ones. */
  async function pages(q: string, bounds: { window: number; documents: number; fallbackWindow: number }) {
    const all: string[] = [];
    const shortPages: number[] = [];
    let after: [string, string] | undefined;
    for (let i = 0; i < 50; i++) {
      const page = await withWorkspace(rapport.pool, ws.workspaceId, async (tx) => {
        const p = await searchPage(tx, ws.workspaceId, {}, 'last_activity', after, searchWords(q), 3, bounds);
        return { ...p, rows: await conversationsRepository.listByIds(tx, ws.workspaceId, p.ids, 'last_activity') };
      });
      all.push(...page.rows.map((r) => r.id));
      if (page.rows.length < 3 && page.resumeAt) shortPages.push(i);
      const last = page.rows.length === 3 ? page.rows[2] : undefined;
      const next = last ? ([last.sort_key!, last.id] as [string, string]) : page.resumeAt;
      if (!next) return { all, shortPages };
      after = next;
    }
    throw new Error('too many pages');
  }

  it('walks the newest conversations, then the word index, then a longer walk that may end a page early', async () => {
    // 12 old conversations with "walrus", then 30 newer ones without it.
    const walrus: string[] = [];
    for (let i = 0; i < 12; i++) walrus.push((await open(api, `Walrus ${i}`, 'tusks', `w${i}@example.test`)).id);
    for (let i = 0; i < 30; i++) await open(api, `Seal ${i}`, 'flippers', `s${i}@example.test`);
    const newestFirst = [...walrus].reverse();
    // Window of 25 finds nothing recent; 5 documents cannot hold 12 matches: the fallback window
    // walks 8 at a time and ends pages early, and the pages still give every match once, in order.
    const slow = await pages('walrus', { window: 25, documents: 5, fallbackWindow: 8 });
    expect(slow.all).toEqual(newestFirst);
    expect(slow.shortPages.length).toBeGreaterThan(0);
    // With room for the 12 documents, the word index answers exactly, with full pages.
    const indexed = await pages('walrus', { window: 25, documents: 100, fallbackWindow: 8 });
    expect(indexed.all).toEqual(newestFirst);
    expect(indexed.shortPages).toEqual([]);
    // A word in every new conversation fills its pages from the first window.
    expect((await pages('seal', { window: 25, documents: 5, fallbackWindow: 8 })).all).toHaveLength(30);
  });
});

describe('search plans', () => {
  /** Every statement a search sends, EXPLAINed (ANALYZE, so the plan is the one that ran). */
  async function plansOf(fn: (tx: Queryable) => Promise<unknown>, workspaceId = ws.workspaceId): Promise<string[]> {
    return withWorkspace(rapport.pool, workspaceId, async (tx) => {
      const plans: string[] = [];
      const recorder = {
        query: async (text: string | { text: string; values: unknown[] }, values?: unknown[]) => {
          const sql = typeof text === 'string' ? text : text.text;
          const args = typeof text === 'string' ? values : text.values;
          if (/^\s*(with|select)\b/i.test(sql) && !/set_config/.test(sql)) {
            const plan = await tx.query<{ 'QUERY PLAN': string }>(`explain (analyze, costs off) ${sql}`, args);
            plans.push(plan.rows.map((r) => r['QUERY PLAN']).join('\n'));
          }
          return tx.query(sql, args);
        },
      } as unknown as Queryable;
      await fn(recorder);
      return plans;
    });
  }

  it('read through indexes, never a sequential scan, for hits, misses, emails and numbers (with enough rows for real plans)', async () => {
    const seed = await createTestWorkspace(rapport);
    const seedApi = client(rapport, seed.token, seed.workspaceId);
    await open(seedApi, 'Seed', 'seed', 'seed@example.test'); // the workspace's inbox, customer and sequence exist
    const n = 4000;
    await withWorkspace(rapport.pool, seed.workspaceId, async (tx) => {
      const { rows } = await tx.query<{ inbox_id: string }>('select inbox_id from conversations where workspace_id = $1 limit 1', [seed.workspaceId]);
      await tx.query(
        `insert into customers (workspace_id, id, name, created_at, updated_at)
         select $1::uuid, md5($1::uuid::text || i)::uuid, 'Customer ' || i, now() - i * interval '1 minute', now() from generate_series(1, $2::int) i`,
        [seed.workspaceId, n / 2],
      );
      await tx.query(
        `insert into customer_identities (workspace_id, customer_id, kind, value)
         select $1::uuid, md5($1::uuid::text || i)::uuid, 'email', 'customer' || i || '@example.test' from generate_series(1, $2::int) i`,
        [seed.workspaceId, n / 2],
      );
      // The same statements the write path sends put each subject and message in search_documents.
      for (let i = 1; i <= n; i += 500) {
        await tx.query(
          `with c as (
             insert into conversations (workspace_id, number, inbox_id, customer_id, subject, created_at, updated_at, last_activity_at, message_count)
             select $1::uuid, 5000 + i, $2::uuid, md5($1::uuid::text || (1 + i % $4::int))::uuid, 'Order ' || i || ' has not arrived', t, t, t, 1
             from generate_series($3::int, $3::int + 499) i, lateral (select now() - i * interval '1 hour' as t) x
             returning workspace_id, id, subject_search, number, created_at),
           d as (insert into search_documents (workspace_id, conversation_id, message_id, search) select workspace_id, id, null, subject_search from c),
           m as (insert into messages (workspace_id, conversation_id, type, author_type, body_text, created_at)
                 select workspace_id, id, 'inbound', 'customer', 'Hello, order ' || number || ' was due on Monday.', created_at from c
                 returning workspace_id, conversation_id, id, search)
           insert into search_documents (workspace_id, conversation_id, message_id, search) select workspace_id, conversation_id, id, search from m`,
          [seed.workspaceId, rows[0].inbox_id, i, n / 2],
        );
      }
    });
    for (const t of ['customers', 'customer_identities', 'conversations', 'messages', 'search_documents']) await rapport.pool.query(`analyze ${t}`);

    const cases: [string, number | null][] = [
      ['arrived', 50], // in every conversation: the first window fills the page
      ['order 3242', 1], // one conversation: the word index
      ['zeppelin', 0], // a miss
      ['customer42@example.test', 2], // an identity
      ['#6242', 1], // a number (conversation 6242 is "Order 1242")
    ];
    for (const [q, expected] of cases) {
      let ids: string[] = [];
      const plans = await plansOf(async (tx) => {
        ids = (await searchPage(tx, seed.workspaceId, {}, 'last_activity', undefined, searchWords(q), 50)).ids;
      }, seed.workspaceId);
      if (expected !== null) expect(ids, q).toHaveLength(expected);
      const text = plans.join('\n');
      expect(text, q).not.toMatch(/Seq Scan/);
      if (q === 'order 3242' || q === 'zeppelin') expect(text, q).toMatch(/Bitmap Index Scan on search_documents_search_idx/);
    }

    const customerPlans = await plansOf(async (tx) => {
      const { customersRepository } = await import('../customers/customers.repository.js');
      for (const q of ['Customer 42', 'customer', 'nobody', 'customer42@example.test']) await customersRepository.list(tx, seed.workspaceId, { limit: 50, q });
    }, seed.workspaceId);
    expect(customerPlans.join('\n')).not.toMatch(/Seq Scan/);
    expect(customerPlans[0]).toMatch(/customers_name_key_idx/);

    // The global search (search module): customers, the conversation steps, the page and its excerpts.
    const { search } = await import('../search/search.service.js');
    const { SearchLimiter } = await import('./conversations.search.limiter.js');
    const limiter = new SearchLimiter(rapport.server.clock, { perMinute: 1e6, burst: 1e6 });
    const globalCases: [string, Record<string, unknown>, number][] = [
      ['Customer 42', {}, 20], // a name prefix: the newest 10 of customers 42, 420-429, ... and their two conversations each
      ['arrived', { status: ['open'] }, 25],
      ['zeppelin', {}, 0],
      ['customer42@example.test', { from: '2000-01-01' }, 2],
      ['#6242', {}, 1],
      ['+1 555 0100', {}, 0], // read as a phone number too
    ];
    for (const [q, filters, expected] of globalCases) {
      let found = 0;
      const plans = await plansOf(async (tx) => {
        const ctx = {
          pool: rapport.pool,
          clock: rapport.server.clock,
          workspaceId: seed.workspaceId,
          actor: { type: 'token' as const, id: null },
          tx: tx as never,
          userId: null,
          searchLimiter: limiter,
        };
        found = (await search(ctx, { q, limit: 25, ...filters }, 'internal')).conversations.items.length;
      }, seed.workspaceId);
      expect(found, q).toBe(expected);
      expect(plans.join('\n'), q).not.toMatch(/Seq Scan/);
    }
  });
});

describe('search pacing', () => {
  const clock = fixedClock('2026-12-02T10:00:00Z');
  let paced: Awaited<ReturnType<typeof startWithWorkspace>>;
  beforeAll(async () => {
    paced = await startWithWorkspace({ clock, config: { searchRateBurst: 3, searchRatePerMinute: 6 } });
  });
  afterAll(async () => paced?.rapport.stop());

  it('answers 429 problem+json with Retry-After past the burst, per user or token, and lets searches through again later', async () => {
    const second = client(paced.rapport, await tokenFor(paced.rapport, paced.ws, 'agent'), paced.ws.workspaceId);
    for (let i = 0; i < 3; i++) expect((await paced.api.get('/conversations?q=kettle')).statusCode).toBe(200);
    const refused = await paced.api.get('/conversations?q=kettle');
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(refused.json()).toMatchObject({ code: 'search.rate_limited', status: 429 });
    expect(refused.json().detail).toMatch(/try again in 10 s/);
    expect(refused.headers['retry-after']).toBe('10');
    // Customer search draws on the same allowance; the list without words does not.
    expect((await paced.api.get('/customers?q=kim')).statusCode).toBe(429);
    expect((await paced.api.get('/conversations')).statusCode).toBe(200);
    // Another token is its own principal.
    expect((await second.get('/conversations?q=kettle')).statusCode).toBe(200);
    clock.advance(10_000);
    expect((await paced.api.get('/conversations?q=kettle')).statusCode).toBe(200);
    expect((await paced.api.get('/conversations?q=kettle')).statusCode).toBe(429);
  });
});
