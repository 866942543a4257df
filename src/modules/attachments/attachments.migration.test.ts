import { randomBytes, randomUUID, createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { adminClient } from '../../../test/db.js';
import { migrationsDir } from '../../db/migrate.js';

/**
 * Migration 0140 moves the email channel's files into the core tables of 0080. A database is built
 * up to the migration before it, filled the way the email channel filled it, then migrated: every
 * byte, name and owner must survive.
 */
let db: pg.Client;
let name = '';

async function run(files: string[]) {
  for (const f of files) await db.query(await readFile(path.join(migrationsDir, f), 'utf8'));
}

beforeAll(async () => {
  const { appUrl, role } = inject('pg');
  name = `m_${randomBytes(6).toString('hex')}`;
  const admin = adminClient();
  await admin.connect();
  await admin.query(`create database ${name} template template0 owner ${role}`);
  await admin.end();
  const url = new URL(appUrl);
  url.pathname = `/${name}`;
  db = new pg.Client({ connectionString: url.toString() });
  await db.connect();
});
afterAll(async () => {
  await db?.end();
  const admin = adminClient();
  await admin.connect();
  await admin.query(`drop database if exists ${name}`);
  await admin.end();
});

describe('migration 0140', () => {
  it('moves email blobs, attachments and uploads into the core tables, keeping bytes, names, owners and Content-IDs', async () => {
    const files = (await readdir(migrationsDir)).filter((f) => f.endsWith('.sql')).sort();
    await run(files.filter((f) => f < '0140'));

    const ws = randomUUID();
    const inbox = randomUUID();
    const customer = randomUUID();
    const conversation = randomUUID();
    const message = randomUUID();
    const reply = randomUUID();
    const email = randomUUID();
    const raw = Buffer.from('From: a@x.test\r\nSubject: hi\r\n\r\nhello\r\n');
    const part = randomBytes(300);
    const upload = randomBytes(200);
    const sha = (b: Buffer) => createHash('sha256').update(b).digest();
    const at = new Date('2026-11-01T10:00:00Z');
    const ids = { part: randomUUID(), sentUpload: randomUUID(), pendingUpload: randomUUID() };

    await db.query(`select set_config('app.system', 'on', false)`);
    await db.query(`insert into workspaces (id, name, slug) values ($1, 'M', $2)`, [ws, `m-${name.slice(2)}`]);
    await db.query(`insert into inboxes (workspace_id, id, name, channel) values ($1, $2, 'Mail', 'email')`, [ws, inbox]);
    await db.query(`insert into customers (workspace_id, id) values ($1, $2)`, [ws, customer]);
    await db.query(
      `insert into conversations (workspace_id, id, number, inbox_id, customer_id, created_at, updated_at, last_activity_at)
      values ($1, $2, 1, $3, $4, $5, $5, $5)`,
      [ws, conversation, inbox, customer, at],
    );
    for (const [id, type, author] of [
      [message, 'inbound', 'customer'],
      [reply, 'outbound', 'user'],
    ]) {
      await db.query(`insert into messages (workspace_id, id, conversation_id, type, author_type, body_text, created_at) values ($1, $2, $3, $4, $5, 'x', $6)`, [
        ws,
        id,
        conversation,
        type,
        author,
        at,
      ]);
    }
    for (const b of [raw, part, upload]) {
      await db.query(`insert into email_blobs (workspace_id, sha256, size, content) values ($1, $2, $3, $4) on conflict do nothing`, [ws, sha(b), b.length, b]);
    }
    await db.query(
      `insert into email_messages (workspace_id, id, inbox_id, conversation_id, message_id, direction, rfc_message_id, body_hash, raw_sha256, created_at)
      values ($1, $2, $3, $4, $5, 'inbound', 'm1@x.test', $6, $6, $7)`,
      [ws, email, inbox, conversation, message, sha(raw), at],
    );
    await db.query(
      `insert into email_attachments (workspace_id, id, email_message_id, sha256, filename, content_type, size, content_id, inline, position)
      values ($1, $2, $3, $4, 'logo.png', 'image/png', $5, 'logo@x', true, 0)`,
      [ws, ids.part, email, sha(part), part.length],
    );
    await db.query(
      `insert into email_uploads (workspace_id, id, uploader, sha256, filename, content_type, size, created_at, message_id, position)
      values ($1, $2, 'user:u1', $3, 'sent.pdf', 'application/pdf', $4, $5, $6, 0), ($1, $7, 'token:t1', $3, 'draft.pdf', 'application/pdf', $4, $5, null, null)`,
      [ws, ids.sentUpload, sha(upload), upload.length, at, reply, ids.pendingUpload],
    );

    await run(files.filter((f) => f.startsWith('0140')));

    const rows = (
      await db.query<{ id: string; filename: string; owner_kind: string | null; owner_id: string | null; position: number | null; uploader: string | null; content: Buffer }>(
        `select a.id, a.filename, a.owner_kind, a.owner_id, a.position, a.uploader, b.content from attachments a
       join blobs b on b.workspace_id = a.workspace_id and b.sha256 = a.sha256 order by a.filename`,
      )
    ).rows;
    expect(rows.map((r) => [r.filename, r.owner_kind, r.owner_id, r.position, r.uploader])).toEqual([
      ['draft.pdf', null, null, null, 'token:t1'],
      ['logo.png', 'message', message, 0, null],
      ['message.eml', 'email_source', email, 0, null],
      ['sent.pdf', 'message', reply, 0, 'user:u1'],
    ]);
    const byName = new Map(rows.map((r) => [r.filename, r]));
    expect(byName.get('logo.png')!.id).toBe(ids.part);
    expect(byName.get('draft.pdf')!.id).toBe(ids.pendingUpload);
    expect(Buffer.compare(byName.get('logo.png')!.content, part)).toBe(0);
    expect(Buffer.compare(byName.get('message.eml')!.content, raw)).toBe(0);
    expect(Buffer.compare(byName.get('sent.pdf')!.content, upload)).toBe(0);
    // Stored once: the two uploads share one blob.
    expect((await db.query('select count(*)::int as n from blobs')).rows[0].n).toBe(3);
    // Email keeps its own facts under the same id.
    expect((await db.query('select id, content_id, inline from email_attachments')).rows).toEqual([{ id: ids.part, content_id: 'logo@x', inline: true }]);
    expect((await db.query(`select to_regclass('email_blobs') as b, to_regclass('email_uploads') as u`)).rows[0]).toEqual({ b: null, u: null });
  });
});
