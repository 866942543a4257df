-- Rapport core schema: workspaces, people, customers, conversations, messages, events.
-- Every tenant table carries workspace_id, and row-level security (forced, so the owning role is
-- bound too) lets a transaction see only the workspace named in app.workspace_id, unless the code
-- explicitly entered a system context (app.system = 'on'). See src/db/tenancy.ts.

create function rapport_current_workspace() returns uuid language sql stable as $$
  select nullif(current_setting('app.workspace_id', true), '')::uuid
$$;
create function rapport_is_system() returns boolean language sql stable as $$
  select coalesce(current_setting('app.system', true), '') = 'on'
$$;

create table workspaces (
  id uuid primary key default gen_random_uuid(),
  name text not null check (length(name) between 1 and 200),
  slug text not null unique check (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
  time_zone text not null default 'UTC',
  created_at timestamptz not null default now()
);

create table users (
  id uuid primary key default gen_random_uuid(),
  email text not null,
  name text not null,
  password_hash text,
  created_at timestamptz not null default now(),
  disabled_at timestamptz
);
create unique index users_email_key on users (lower(email));

create table memberships (
  workspace_id uuid not null references workspaces(id) on delete cascade,
  user_id uuid not null references users(id) on delete cascade,
  role text not null check (role in ('owner', 'admin', 'supervisor', 'agent', 'client_viewer')),
  created_at timestamptz not null default now(),
  primary key (workspace_id, user_id)
);
create index memberships_user_idx on memberships (user_id);

create table sessions (
  token_hash bytea primary key,
  user_id uuid not null references users(id) on delete cascade,
  csrf_token text not null,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null
);
create index sessions_user_idx on sessions (user_id);

create table api_tokens (
  workspace_id uuid not null references workspaces(id) on delete cascade,
  id uuid not null default gen_random_uuid(),
  name text not null,
  role text not null check (role in ('admin', 'supervisor', 'agent', 'client_viewer')),
  token_hash bytea not null unique,
  prefix text not null,
  created_by uuid references users(id) on delete set null,
  created_at timestamptz not null default now(),
  last_used_at timestamptz,
  revoked_at timestamptz,
  primary key (workspace_id, id)
);

create table teams (
  workspace_id uuid not null references workspaces(id) on delete cascade,
  id uuid not null default gen_random_uuid(),
  name text not null,
  created_at timestamptz not null default now(),
  primary key (workspace_id, id)
);
create unique index teams_name_key on teams (workspace_id, lower(name));

create table team_members (
  workspace_id uuid not null,
  team_id uuid not null,
  user_id uuid not null references users(id) on delete cascade,
  primary key (workspace_id, team_id, user_id),
  foreign key (workspace_id, team_id) references teams(workspace_id, id) on delete cascade
);

create table inboxes (
  workspace_id uuid not null references workspaces(id) on delete cascade,
  id uuid not null default gen_random_uuid(),
  name text not null,
  channel text not null,
  settings jsonb not null default '{}',
  created_at timestamptz not null default now(),
  primary key (workspace_id, id)
);

create table customers (
  workspace_id uuid not null references workspaces(id) on delete cascade,
  id uuid not null default gen_random_uuid(),
  name text,
  custom_attributes jsonb not null default '{}',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (workspace_id, id)
);
create index customers_recent_idx on customers (workspace_id, created_at desc, id desc);

-- One customer per identity per workspace: the same email may belong to customers of two workspaces.
create table customer_identities (
  workspace_id uuid not null,
  id uuid not null default gen_random_uuid(),
  customer_id uuid not null,
  kind text not null check (kind in ('email', 'phone', 'external_id')),
  value text not null,
  created_at timestamptz not null default now(),
  primary key (workspace_id, id),
  unique (workspace_id, kind, value),
  foreign key (workspace_id, customer_id) references customers(workspace_id, id) on delete cascade
);
create index customer_identities_customer_idx on customer_identities (workspace_id, customer_id);

create table conversations (
  workspace_id uuid not null,
  id uuid not null default gen_random_uuid(),
  number bigint not null,
  inbox_id uuid not null,
  customer_id uuid not null,
  subject text,
  status text not null default 'open' check (status in ('open', 'pending', 'snoozed', 'resolved', 'closed')),
  snoozed_until timestamptz,
  priority text not null default 'normal' check (priority in ('low', 'normal', 'high', 'urgent')),
  assignee_id uuid references users(id) on delete set null,
  team_id uuid,
  tags text[] not null default '{}',
  created_at timestamptz not null,
  updated_at timestamptz not null,
  last_activity_at timestamptz not null,
  -- When the customer started waiting for an answer (last inbound message not yet answered).
  waiting_since timestamptz,
  first_response_at timestamptz,
  resolved_at timestamptz,
  last_message_preview text,
  last_message_type text,
  message_count integer not null default 0,
  subject_search tsvector generated always as (to_tsvector('simple', coalesce(subject, ''))) stored,
  primary key (workspace_id, id),
  unique (workspace_id, number),
  foreign key (workspace_id, inbox_id) references inboxes(workspace_id, id),
  foreign key (workspace_id, customer_id) references customers(workspace_id, id) on delete cascade,
  foreign key (workspace_id, team_id) references teams(workspace_id, id) on delete set null (team_id),
  check ((status = 'snoozed') = (snoozed_until is not null))
);
-- The inbox list: keyset pagination by (last_activity_at, id) within the common filters.
create index conversations_activity_idx on conversations (workspace_id, last_activity_at desc, id desc);
create index conversations_status_activity_idx on conversations (workspace_id, status, last_activity_at desc, id desc);
create index conversations_assignee_activity_idx on conversations (workspace_id, assignee_id, status, last_activity_at desc, id desc);
create index conversations_team_activity_idx on conversations (workspace_id, team_id, status, last_activity_at desc, id desc);
create index conversations_inbox_activity_idx on conversations (workspace_id, inbox_id, last_activity_at desc, id desc);
create index conversations_customer_idx on conversations (workspace_id, customer_id, last_activity_at desc);
create index conversations_tags_idx on conversations using gin (tags);
create index conversations_subject_search_idx on conversations using gin (subject_search);
create index conversations_snoozed_idx on conversations (snoozed_until) where status = 'snoozed';

create table messages (
  workspace_id uuid not null,
  id uuid not null default gen_random_uuid(),
  conversation_id uuid not null,
  type text not null check (type in ('inbound', 'outbound', 'note')),
  author_type text not null check (author_type in ('customer', 'user', 'token', 'system')),
  author_id uuid,
  body_text text not null,
  body_html text,
  metadata jsonb not null default '{}',
  created_at timestamptz not null,
  search tsvector generated always as (to_tsvector('simple', left(body_text, 200000))) stored,
  primary key (workspace_id, id),
  foreign key (workspace_id, conversation_id) references conversations(workspace_id, id) on delete cascade
);
create index messages_conversation_idx on messages (workspace_id, conversation_id, created_at, id);
create index messages_search_idx on messages using gin (search);

-- The transactional outbox and the timeline: written in the same transaction as the change.
create table events (
  id bigint generated always as identity primary key,
  workspace_id uuid not null,
  conversation_id uuid,
  type text not null,
  actor_type text not null,
  actor_id uuid,
  data jsonb not null default '{}',
  created_at timestamptz not null,
  dispatched_at timestamptz
);
create index events_conversation_idx on events (workspace_id, conversation_id, id);
create index events_undispatched_idx on events (id) where dispatched_at is null;

create function rapport_notify_event() returns trigger language plpgsql as $$
begin
  -- Delivered at COMMIT, so listeners only ever hear of committed events.
  perform pg_notify('rapport_events', json_build_object(
    'id', new.id, 'workspaceId', new.workspace_id, 'conversationId', new.conversation_id, 'type', new.type)::text);
  return null;
end $$;
create trigger events_notify after insert on events for each row execute function rapport_notify_event();

create table idempotency_keys (
  workspace_id uuid not null,
  principal text not null,
  key text not null,
  request_hash text not null,
  status_code integer,
  response jsonb,
  created_at timestamptz not null default now(),
  primary key (workspace_id, principal, key)
);
create index idempotency_keys_created_idx on idempotency_keys (created_at);

-- Per-workspace conversation numbers (#1042). A sequence per workspace instead of a counter row:
-- numbers never block concurrent creates (a counter row would serialize every create in a
-- workspace behind the previous commit). A rolled-back create leaves a gap, as in other help desks.
create function rapport_conversation_sequence(ws uuid) returns text language sql immutable as $$
  select 'conversation_number_' || replace(ws::text, '-', '')
$$;
create function rapport_ensure_conversation_sequence(ws uuid) returns void language plpgsql as $$
begin
  execute format('create sequence if not exists %I start 1001', rapport_conversation_sequence(ws));
end $$;
create function rapport_next_conversation_number(ws uuid) returns bigint language plpgsql as $$
begin
  return nextval(rapport_conversation_sequence(ws));
exception when undefined_table then
  perform rapport_ensure_conversation_sequence(ws);
  return nextval(rapport_conversation_sequence(ws));
end $$;

do $$
declare t text;
begin
  foreach t in array array['memberships', 'api_tokens', 'teams', 'team_members', 'inboxes', 'customers',
    'customer_identities', 'conversations', 'messages', 'events', 'idempotency_keys'] loop
    execute format('alter table %I enable row level security', t);
    execute format('alter table %I force row level security', t);
    execute format($p$create policy tenant_isolation on %I
      using (workspace_id = rapport_current_workspace() or rapport_is_system())
      with check (workspace_id = rapport_current_workspace() or rapport_is_system())$p$, t);
  end loop;
end $$;
alter table workspaces enable row level security;
alter table workspaces force row level security;
create policy tenant_isolation on workspaces
  using (id = rapport_current_workspace() or rapport_is_system())
  with check (id = rapport_current_workspace() or rapport_is_system());
