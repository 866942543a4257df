import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';

/** A fresh database cloned from the migrated template: each test file gets its own. */
export async function createTestDatabase(): Promise<string> {
  const { adminUrl, appUrl, template, role } = inject('pg');
  const name = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name} template ${template} owner ${role}`);
  } finally {
    await admin.end();
  }
  const url = new URL(appUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** A superuser connection to the same cluster (for faults and canaries the app role cannot do). */
export function adminClient(): pg.Client {
  return new pg.Client({ connectionString: inject('pg').adminUrl });
}
