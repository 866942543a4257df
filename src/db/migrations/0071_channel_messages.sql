-- What every channel (but email, whose own tables keep its RFC 822 keys) knows of a message: the
-- provider's id of it, and for replies the delivery state the one outbound job and the provider's
-- receipts move forward (channels.outbound.ts). Inbound rows make a webhook delivered twice store
-- one message.
create table channel_messages (
  workspace_id uuid not null,
  id uuid not null default gen_random_uuid(),
  inbox_id uuid not null,
  conversation_id uuid not null,
  message_id uuid not null,
  direction text not null check (direction in ('inbound', 'outbound')),
  provider_id text check (length(provider_id) between 1 and 500),
  status text check (status in ('queued', 'sent', 'delivered', 'read', 'failed')),
  -- A stable code (never the provider's words): why the last attempt failed, or why it was given up.
  error text,
  attempts integer not null default 0,
  next_attempt_at timestamptz,
  created_at timestamptz not null,
  updated_at timestamptz not null,
  primary key (workspace_id, id),
  unique (workspace_id, message_id),
  check ((direction = 'outbound') = (status is not null)),
  foreign key (workspace_id, inbox_id) references inboxes(workspace_id, id) on delete cascade,
  foreign key (workspace_id, conversation_id) references conversations(workspace_id, id) on delete cascade,
  foreign key (workspace_id, message_id) references messages(workspace_id, id) on delete cascade
);
-- Receipts and redelivered webhooks name the provider's id within one inbox.
create unique index channel_messages_provider_key on channel_messages (workspace_id, inbox_id, direction, provider_id) where provider_id is not null;
-- Dead letters: what an operator looks at.
create index channel_messages_failed_idx on channel_messages (workspace_id, updated_at) where status = 'failed';
select rapport_tenant_table('channel_messages');
