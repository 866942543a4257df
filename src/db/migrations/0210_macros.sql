-- Macros: canned replies with placeholders, and actions (status, priority, tags to add) applied with them.
create table macros (
  workspace_id uuid not null references workspaces(id) on delete cascade,
  id uuid not null default gen_random_uuid(),
  name text not null check (length(name) between 1 and 200),
  body text not null check (length(body) <= 20000),
  actions jsonb not null default '{}',
  created_by uuid references users(id) on delete set null,
  created_at timestamptz not null,
  updated_at timestamptz not null,
  primary key (workspace_id, id)
);
create unique index macros_name_key on macros (workspace_id, lower(name));

alter table macros enable row level security;
alter table macros force row level security;
create policy tenant_isolation on macros
  using (workspace_id = rapport_current_workspace() or rapport_is_system())
  with check (workspace_id = rapport_current_workspace() or rapport_is_system());
