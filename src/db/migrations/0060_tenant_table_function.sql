-- Row-level security by construction: every migration that creates a tenant table (one with a
-- workspace_id column) ends with `select rapport_tenant_table('the_table');`. It enables and forces
-- RLS and adds the one tenant policy, so no table can forget either half. A test
-- (test/rls-coverage.test.ts) fails when a table with workspace_id lacks forced RLS or any policy.
create function rapport_tenant_table(t regclass) returns void language plpgsql as $$
begin
  execute format('alter table %s enable row level security', t);
  execute format('alter table %s force row level security', t);
  if not exists (select 1 from pg_policies where schemaname = current_schema()
                 and tablename = (select relname from pg_class where oid = t) and policyname = 'tenant_isolation') then
    execute format($p$create policy tenant_isolation on %s
      using (workspace_id = rapport_current_workspace() or rapport_is_system())
      with check (workspace_id = rapport_current_workspace() or rapport_is_system())$p$, t);
  end if;
end $$;
