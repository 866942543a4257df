-- Accounts (issue #8, H1 and L1).
-- Instance admins may create workspaces (the WORKSPACE_CREATION setting decides whether others may).
-- The first owner of an existing instance, the owners of its oldest workspace, become instance admins.
alter table users add column instance_admin boolean not null default false;
update users set instance_admin = true
 where id in (select m.user_id from memberships m
               where m.role = 'owner'
                 and m.workspace_id = (select id from workspaces order by created_at, id limit 1));

-- Security alerts an account's owner sees after signing in (there is no system email yet): for
-- example, many wrong passwords tried on the account. Personal, not a tenant's: only system code
-- (the session answer) reads them.
create table security_alerts (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references users(id) on delete cascade,
  kind text not null check (kind in ('password_guessing')),
  created_at timestamptz not null,
  details jsonb not null default '{}',
  dismissed_at timestamptz
);
create index security_alerts_open_idx on security_alerts (user_id, created_at desc) where dismissed_at is null;
alter table security_alerts enable row level security;
alter table security_alerts force row level security;
create policy system_only on security_alerts using (rapport_is_system()) with check (rapport_is_system());
