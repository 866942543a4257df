-- Notifications (issue #10): what a person is told happened to them in a workspace: a conversation
-- assigned to them, a customer's reply on a conversation they hold, a note mentioning them (and later an
-- SLA at risk: `kind` is plain text checked by the module, so a new kind needs no migration). One row
-- per person and source event: the subscriber that writes them is delivered at least once, and the
-- unique key makes a redelivered event write nothing. A member who leaves takes their rows along.
create table notifications (
  workspace_id uuid not null references workspaces(id) on delete cascade,
  id uuid not null default gen_random_uuid(),
  user_id uuid not null,
  kind text not null check (kind ~ '^[a-z_]{1,40}$'),
  conversation_id uuid,
  conversation_number integer,
  -- Who did it, as named when it happened (an agent, a token, a customer); null for Rapport itself.
  actor_type text not null,
  actor_id uuid,
  actor_name text,
  excerpt text not null default '' check (length(excerpt) <= 400),
  source_event_id bigint not null,
  created_at timestamptz not null,
  read_at timestamptz,
  emailed_at timestamptz,
  primary key (workspace_id, id),
  foreign key (workspace_id, user_id) references memberships (workspace_id, user_id) on delete cascade,
  foreign key (workspace_id, conversation_id) references conversations (workspace_id, id) on delete cascade,
  unique (workspace_id, user_id, source_event_id)
);
-- A person's list, newest first (keyset cursor on (created_at, id)), and their unread count.
create index notifications_user_idx on notifications (workspace_id, user_id, created_at desc, id desc);
create index notifications_unread_idx on notifications (workspace_id, user_id) where read_at is null;
create index notifications_conversation_idx on notifications (workspace_id, conversation_id);

select rapport_tenant_table('notifications');

-- What a person wants emailed, per kind (in-app is always on; browser notifications are the browser's
-- permission, kept client-side). No row: nothing is emailed.
create table notification_preferences (
  workspace_id uuid not null references workspaces(id) on delete cascade,
  user_id uuid not null,
  email_kinds text[] not null default '{}',
  updated_at timestamptz not null,
  primary key (workspace_id, user_id),
  foreign key (workspace_id, user_id) references memberships (workspace_id, user_id) on delete cascade
);

select rapport_tenant_table('notification_preferences');
