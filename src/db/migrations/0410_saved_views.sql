-- Saved views (issue #10): inbox filters a member names (status, assignee, team, priority, tag, inbox,
-- words, sort), kept for themselves or shared with the workspace. The filters are the list API's own
-- (checked by the views module's TypeBox schema when written); a view's list and count are the inbox's,
-- so nothing else is stored. A member who leaves takes their views along, shared ones too.
create table saved_views (
  workspace_id uuid not null references workspaces(id) on delete cascade,
  id uuid not null default gen_random_uuid(),
  owner_id uuid not null,
  name text not null check (length(name) between 1 and 80),
  filters jsonb not null,
  shared boolean not null default false,
  created_at timestamptz not null,
  updated_at timestamptz not null,
  primary key (workspace_id, id),
  foreign key (workspace_id, owner_id) references memberships (workspace_id, user_id) on delete cascade
);
-- A member's list: their own views, then the workspace's shared ones.
create index saved_views_owner_idx on saved_views (workspace_id, owner_id);
create index saved_views_shared_idx on saved_views (workspace_id) where shared;

select rapport_tenant_table('saved_views');
