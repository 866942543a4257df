import { readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, startEmbeddedPostgres, type EmbeddedDatabase } from '../src/db/embedded.js';
import { withSystem } from '../src/db/tenancy.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/lib/logger.js';
import { startRapport, type Rapport } from '../src/server.js';
import { client, createTestWorkspace, eventually } from './helpers.js';

/**
 * SECURITY L1: PostgreSQL crashes (immediate shutdown, like `pg_ctl restart -m immediate`) in the
 * middle of a burst of conversation creations. Every 2xx is durable, nothing is half-saved (no
 * conversation without its first message), and the server recovers unaided.
 */
let dir = '';
let db: EmbeddedDatabase | null = null;
let rapport: Rapport | null = null;

afterAll(async () => {
  await rapport?.stop().catch(() => {});
  await db?.stop().catch(() => {});
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('a database crash during a burst of writes', () => {
  it('loses no acknowledged conversation and half-saves none', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'rapport-crash-'));
    await chmod(dir, 0o755);
    const port = await freePort();
    db = await startEmbeddedPostgres({ dataDir: dir, log: () => {}, port });
    rapport = await startRapport(loadConfig({}, { databaseUrl: db.url, host: '127.0.0.1', port: 0, seedDemo: false, logLevel: 'silent' }), {
      log: createLogger('silent'),
      print: () => {},
      modules: [],
    });
    const ws = await createTestWorkspace(rapport, 'crash');
    const api = client(rapport, ws.token, ws.workspaceId);

    const results: { email: string; status: number; id?: string }[] = [];
    let crashed = false;
    const send = async (i: number) => {
      const email = `burst-${i}@example.test`;
      const res = await api.post('/conversations', { customer: { email }, subject: `burst ${i}`, message: { body: `message ${i}` } });
      results.push({ email, status: res.statusCode, id: res.statusCode === 201 ? res.json().id : undefined });
    };
    const total = 1000; // SECURITY L1: a burst of 1,000 creations
    let next = 0;
    const workers = Array.from({ length: 16 }, async () => {
      while (next < total) {
        const i = next++;
        if (i === 120 && !crashed) {
          crashed = true;
          // Immediate shutdown: the postmaster is told to quit without a checkpoint (SIGQUIT).
          const pid = Number(readFileSync(path.join(dir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);
          process.kill(pid, 'SIGQUIT');
          await db!.stop().catch(() => {});
          void startEmbeddedPostgres({ dataDir: dir, log: () => {}, port }).then((again) => (db = again));
        }
        await send(i);
      }
    });
    await Promise.all(workers);
    await eventually(async () => (await api.get('/conversations?limit=1')).statusCode === 200, 30_000, 200);

    const ok = results.filter((r) => r.status === 201);
    const failed = results.filter((r) => r.status !== 201);
    expect(results).toHaveLength(total);
    expect(ok.length).toBeGreaterThan(100);
    expect(failed.length).toBeGreaterThan(0);
    for (const f of failed) expect(f.status).toBe(503);

    const rows = await withSystem(
      rapport.pool,
      async (tx) =>
        (
          await tx.query<{ id: string; subject: string; message_count: number; messages: number }>(
            `select c.id, c.subject, c.message_count, (select count(*)::int from messages m where m.workspace_id = c.workspace_id and m.conversation_id = c.id) as messages
       from conversations c where c.workspace_id = $1`,
            [ws.workspaceId],
          )
        ).rows,
    );
    const stored = new Map(rows.map((r) => [r.id, r]));
    // Every acknowledged conversation exists, with its first message.
    for (const r of ok) {
      expect(stored.get(r.id!), r.email).toBeDefined();
      expect(stored.get(r.id!)!.messages).toBe(1);
    }
    // Nothing half-saved, and nothing twice.
    for (const r of rows) expect(r.messages).toBe(r.message_count);
    for (const r of rows) expect(r.messages).toBe(1);
    const subjects = rows.map((r) => r.subject);
    expect(new Set(subjects).size).toBe(subjects.length);
    // After recovery, writes work again.
    expect((await api.post('/conversations', { customer: { email: 'after@example.test' }, message: { body: 'after' } })).statusCode).toBe(201);
  }, 90_000);
});
