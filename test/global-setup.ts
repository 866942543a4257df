import { mkdtemp, chmod, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres, APP_ROLE, type EmbeddedDatabase } from '../src/db/embedded.js';
import { migrate } from '../src/db/migrate.js';
import { createPool } from '../src/db/pool.js';
import { prepareQueue } from '../src/jobs/queue.js';

export const TEMPLATE_DB = 'rapport_template';

/**
 * One real PostgreSQL for the whole run (the embedded one, as `npm start` uses), with a migrated
 * template database; every test file clones its own database from it (test/db.ts).
 */
let db: EmbeddedDatabase | null = null;
let dir = '';

export async function setup(project: TestProject): Promise<void> {
  dir = await mkdtemp(path.join(os.tmpdir(), 'rapport-test-'));
  await chmod(dir, 0o755);
  db = await startEmbeddedPostgres({
    dataDir: dir,
    log: () => {},
    database: TEMPLATE_DB,
    // Durability is not under test here; speed is.
    postgresFlags: ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'],
  });
  const pool = createPool(db.url, { max: 2 });
  await migrate(pool);
  await prepareQueue(pool);
  await pool.end();
  const admin = new pg.Client({ connectionString: db.adminUrl });
  await admin.connect();
  await admin.query(`alter database ${TEMPLATE_DB} with is_template true`);
  await admin.end();
  project.provide('pg', { adminUrl: db.adminUrl, appUrl: db.url, template: TEMPLATE_DB, role: APP_ROLE });
}

export async function teardown(): Promise<void> {
  await db?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
}

declare module 'vitest' {
  export interface ProvidedContext {
    pg: { adminUrl: string; appUrl: string; template: string; role: string };
  }
}
