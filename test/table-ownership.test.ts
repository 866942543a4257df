import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from './db.js';

/**
 * Each table has one owner (docs/ARCHITECTURE.md, "Table ownership"): only the owner's code names it
 * in SQL; any other module goes through the owner's service, passing its transaction. The map is
 * here, in code, so a new table without an owner and a new crossing both fail this file.
 */
const OWNERS: Record<string, string[]> = {
  workspaces: ['workspaces', 'users', 'memberships', 'api_tokens'],
  auth: ['sessions', 'security_alerts', 'password_resets'],
  customers: ['customers', 'customer_identities', 'identity_kinds'],
  conversations: ['conversations', 'messages', 'search_documents', 'conversation_tags'],
  teams: ['teams', 'team_members'],
  inboxes: ['inboxes'],
  channels: ['channel_messages', 'channel_early_receipts', 'channel_webhook_deliveries'],
  attachments: ['blobs', 'attachments'],
  email: [
    'email_messages',
    'email_conversations',
    'email_participants',
    'email_attachments',
    'email_imap_state',
    'email_notice_log',
    'email_inbox_addresses',
    'email_domain_tokens',
    'email_confirmation_sends',
    'email_imap_leases',
  ],
  macros: ['macros'],
  invitations: ['invitations'],
  notifications: ['notifications', 'notification_preferences'],
  views: ['saved_views'],
  events: ['events', 'event_deliveries'],
  idempotency: ['idempotency_keys'],
  db: ['schema_migrations'],
};

/**
 * Crossings left on purpose, each with its reason. An entry that no longer matches anything fails
 * too, so this list only shrinks as code moves to the owner.
 */
const ALLOWED: Array<{ file: string; table: string; why: string }> = [
  {
    file: 'src/modules/channels/email/email.ownership.repository.ts',
    table: 'inboxes',
    why: 'kept: routedWorkspace answers, in one statement across workspaces, which verified claim of an email inbox mail to an address reaches (the order inbound routing takes)',
  },
  {
    file: 'src/modules/channels/email/email.repository.ts',
    table: 'inboxes',
    why: 'kept: inbound routing (each SMTP recipient, system context) finds the verified claim and its email inbox with the settings in one statement',
  },
  {
    file: 'src/modules/channels/email/imap.repository.ts',
    table: 'inboxes',
    why: 'kept: the IMAP lease claim adds the mailboxes of inboxes that gained an IMAP account and claims due ones (their settings, SKIP LOCKED) in one transaction of two statements',
  },
  {
    file: 'src/modules/conversations/conversations.repository.ts',
    table: 'inboxes',
    why: 'kept for speed: the benchmarked inbox list probes the channel per row by primary key; to move, measure a batch through inboxes first',
  },
  {
    file: 'src/modules/conversations/conversations.repository.ts',
    table: 'customers',
    why: 'kept for speed: the benchmarked inbox list probes the customer name per row by primary key; to move, measure customerNames per page first',
  },
  {
    file: 'src/modules/conversations/conversations.repository.ts',
    table: 'customer_identities',
    why: 'kept for speed: the benchmarked inbox list reads the first email and phone per row in one lateral probe',
  },
  {
    file: 'src/modules/conversations/conversations.repository.ts',
    table: 'events',
    why: 'by design (issue #14): a create writes conversation.created and message.created in its one statement, each checked first by eventForStatement (events module)',
  },
  {
    file: 'src/modules/customers/customers.repository.ts',
    table: 'events',
    why: 'by design (issue #14): find-or-create writes customer.created in its one statement, checked first by eventForStatement (events module)',
  },
  {
    file: 'src/modules/conversations/conversations.search.repository.ts',
    table: 'customer_identities',
    why: 'kept for speed: a search matches identities inside its bounded steps (ARCHITECTURE, Search)',
  },
];

const ownerOf = new Map(Object.entries(OWNERS).flatMap(([owner, tables]) => tables.map((t) => [t, owner] as const)));

/** The module a source file belongs to: its folder under src/modules (email is its own), else its top folder under src. */
function moduleOf(file: string): string {
  const parts = file.split('/');
  if (parts[1] === 'modules') return parts[2] === 'channels' && parts[3] === 'email' ? 'email' : parts[2];
  if (file === 'src/http/idempotency.ts') return 'idempotency';
  return parts[1];
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'migrations' ? [] : sourceFiles(path);
    return path.endsWith('.ts') && !path.endsWith('.test.ts') ? [path] : [];
  });
}

/** A table with its optional alias (`customers c`, `customers as c`), as a FROM or USING list holds them. */
const LISTED = '(?:only\\s+)?[a-z_]+(?:\\s+(?:as\\s+)?[a-z_]+)?';
/** After FROM or USING (delete ... using, merge ... using): a comma list of tables (`from a, b`). */
const TABLE_LIST = new RegExp(`\\b(?:from|using)\\s+(${LISTED}(?:\\s*,\\s*${LISTED})*)`, 'gi');
/** After a keyword that names one table. */
const ONE_TABLE = /\b(?:join|into|update|table|truncate)\s+(?:only\s+)?([a-z_]+)\b/gi;

/** Table names that follow an SQL keyword that names a table (comma lists included), outside comments. */
function tablesNamedIn(text: string): Set<string> {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:])\/\/.*$/gm, '$1');
  const names: string[] = [];
  for (const m of code.matchAll(TABLE_LIST))
    for (const item of m[1].split(','))
      names.push(
        item
          .trim()
          .replace(/^only\s+/i, '')
          .split(/\s+/)[0],
      );
  for (const m of code.matchAll(ONE_TABLE)) names.push(m[1]);
  return new Set(names.filter((n) => ownerOf.has(n)));
}

function crossings() {
  const root = join(import.meta.dirname, '..');
  const out: Array<{ file: string; module: string; table: string; owner: string }> = [];
  for (const path of sourceFiles(join(root, 'src'))) {
    const file = relative(root, path);
    const module = moduleOf(file);
    for (const table of tablesNamedIn(readFileSync(path, 'utf8'))) {
      const owner = ownerOf.get(table)!;
      if (owner !== module) out.push({ file, module, table, owner });
    }
  }
  return out;
}

let client: pg.Client;
beforeAll(async () => {
  client = new pg.Client({ connectionString: await createTestDatabase() });
  await client.connect();
});
afterAll(async () => client?.end());

describe('table ownership', () => {
  it('names an owner for every table the migrations create', async () => {
    const { rows } = await client.query<{ table: string }>(
      `select c.relname as table from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = current_schema() and c.relkind in ('r', 'p') order by 1`,
    );
    expect(rows.length).toBeGreaterThan(20);
    expect(rows.map((r) => r.table).filter((t) => !ownerOf.has(t))).toEqual([]);
  });

  it('finds a table named in SQL, and ignores it in a comment', () => {
    expect([...tablesNamedIn("tx.query('select name from users u join api_tokens t on true')")]).toEqual(['users', 'api_tokens']);
    expect([...tablesNamedIn('// reads from users\n/* join customers */ const x = 1;')]).toEqual([]);
  });

  it('finds the tables of a comma join, of USING and of TRUNCATE', () => {
    const named = (sql: string) => [...tablesNamedIn(sql)].sort();
    expect(named('select 1 from customers c, inboxes as i, users where c.id = i.id')).toEqual(['customers', 'inboxes', 'users']);
    expect(named('select 1 from customers c,inboxes i')).toEqual(['customers', 'inboxes']);
    expect(named('delete from messages m using conversations c, inboxes i where m.id = c.id')).toEqual(['conversations', 'inboxes', 'messages']);
    expect(named('merge into conversation_tags t using conversations c on t.id = c.id')).toEqual(['conversation_tags', 'conversations']);
    expect(named('update conversations set x = 1 from customers as cu, inboxes i where true')).toEqual(['conversations', 'customers', 'inboxes']);
    expect(named('truncate events; select 1 from only teams t')).toEqual(['events', 'teams']);
    // Not tables: a join's column list, a function, words after the list.
    expect(named('select 1 from teams t join team_members m using (team_id) order by a, b')).toEqual(['team_members', 'teams']);
    expect(named("select x from unnest($1::uuid[], $2::text[]) as u(id, users) where a = 'b'")).toEqual([]);
  });

  it("keeps each module's SQL on its own tables (other tables through the owner's service)", () => {
    const found = crossings();
    const allowed = (c: { file: string; table: string }) => ALLOWED.some((a) => a.file === c.file && a.table === c.table);
    expect(found.filter((c) => !allowed(c)).map((c) => `${c.file}: ${c.table} (owned by ${c.owner})`)).toEqual([]);
    const stale = ALLOWED.filter((a) => !found.some((c) => c.file === a.file && c.table === a.table));
    expect(stale.map((a) => `${a.file}: ${a.table}`)).toEqual([]);
  });
});
