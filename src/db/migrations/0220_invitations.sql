-- Invitations: an admin invites an email with a role; the link carries a secret whose SHA-256 alone is
-- stored. Single use (accepted_at), revocable (revoked_at), expiring (expires_at).
create table invitations (
  workspace_id uuid not null references workspaces(id) on delete cascade,
  id uuid not null default gen_random_uuid(),
  email text not null check (length(email) between 3 and 254),
  role text not null check (role in ('owner', 'admin', 'supervisor', 'agent', 'client_viewer')),
  token_hash bytea not null unique,
  invited_by uuid references users(id) on delete set null,
  created_at timestamptz not null,
  expires_at timestamptz not null,
  accepted_at timestamptz,
  accepted_by uuid references users(id) on delete set null,
  revoked_at timestamptz,
  primary key (workspace_id, id)
);
create index invitations_pending_idx on invitations (workspace_id, created_at desc) where accepted_at is null and revoked_at is null;

alter table invitations enable row level security;
alter table invitations force row level security;
create policy tenant_isolation on invitations
  using (workspace_id = rapport_current_workspace() or rapport_is_system())
  with check (workspace_id = rapport_current_workspace() or rapport_is_system());
