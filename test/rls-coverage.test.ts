import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createTestDatabase } from './db.js';

let client: pg.Client;

beforeAll(async () => {
  client = new pg.Client({ connectionString: await createTestDatabase() });
  await client.connect();
});
afterAll(async () => client?.end());

describe('row-level security coverage', () => {
  it('forces RLS, with at least one policy, on every table that has a workspace_id', async () => {
    const { rows } = await client.query<{ table: string; enabled: boolean; forced: boolean; policies: number }>(`
      select c.relname as table, c.relrowsecurity as enabled, c.relforcerowsecurity as forced,
             (select count(*)::int from pg_policies p where p.schemaname = n.nspname and p.tablename = c.relname) as policies
        from pg_class c join pg_namespace n on n.oid = c.relnamespace
       where n.nspname = current_schema() and c.relkind in ('r', 'p')
         and exists (select 1 from pg_attribute a where a.attrelid = c.oid and a.attname = 'workspace_id' and not a.attisdropped)
       order by 1`);
    expect(rows.length).toBeGreaterThan(10);
    const unprotected = rows.filter((r) => !r.enabled || !r.forced || r.policies === 0).map((r) => r.table);
    expect(unprotected).toEqual([]);
  });

  it('rapport_tenant_table() protects a new table in one call', async () => {
    await client.query('begin');
    try {
      await client.query('create table rls_probe (workspace_id uuid not null, v text)');
      await client.query(`select rapport_tenant_table('rls_probe')`);
      const { rows } = await client.query(`select relrowsecurity, relforcerowsecurity from pg_class where relname = 'rls_probe'`);
      expect(rows[0]).toEqual({ relrowsecurity: true, relforcerowsecurity: true });
      const policies = await client.query(`select policyname from pg_policies where tablename = 'rls_probe'`);
      expect(policies.rows.map((r) => r.policyname)).toEqual(['tenant_isolation']);
    } finally {
      await client.query('rollback');
    }
  });
});
