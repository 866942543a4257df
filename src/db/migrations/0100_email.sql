-- The email channel (src/modules/channels/email). Raw sources and attachment bodies live in one
-- content-addressed blob table per workspace; email_messages ties each RFC 822 message (inbound or
-- sent) to its conversation message and carries the keys threading and deduplication need.

-- Content-addressed bytes (raw RFC 822 sources, attachment bodies), never shared across workspaces.
create table email_blobs (
  workspace_id uuid not null references workspaces(id) on delete cascade,
  sha256 bytea not null,
  size integer not null,
  content bytea not null,
  created_at timestamptz not null default now(),
  primary key (workspace_id, sha256)
);

create table email_messages (
  workspace_id uuid not null,
  id uuid not null default gen_random_uuid(),
  inbox_id uuid not null,
  conversation_id uuid,
  -- The conversation message this email became (null for auto-acknowledgements).
  message_id uuid,
  direction text not null check (direction in ('inbound', 'outbound')),
  kind text not null default 'message' check (kind in ('message', 'reply', 'auto_ack')),
  -- Message-ID without angle brackets, lower-cased; '' when an inbound message has none.
  rfc_message_id text not null,
  -- Deduplication: SHA-256 of the body section (so trace headers added by relays do not matter),
  -- or of the whole source when there is no Message-ID.
  body_hash bytea not null,
  raw_sha256 bytea,
  -- Outlook's Thread-Index root (first 22 bytes, base64), for clients that drop References.
  thread_root text,
  from_address text,
  recipients text[] not null default '{}',
  received_via text check (received_via in ('smtp', 'imap')),
  parse_status text not null default 'parsed' check (parse_status in ('parsed', 'unparsed')),
  parse_error text,
  delivery_status text check (delivery_status in ('queued', 'sent', 'failed')),
  delivery_error text,
  created_at timestamptz not null,
  primary key (workspace_id, id),
  foreign key (workspace_id, inbox_id) references inboxes(workspace_id, id) on delete cascade,
  foreign key (workspace_id, conversation_id) references conversations(workspace_id, id) on delete cascade,
  foreign key (workspace_id, message_id) references messages(workspace_id, id) on delete cascade,
  foreign key (workspace_id, raw_sha256) references email_blobs(workspace_id, sha256)
);
-- SECURITY E2: one message per (workspace, inbox, Message-ID, body hash), however often it arrives.
create unique index email_messages_dedup_key on email_messages (workspace_id, inbox_id, rfc_message_id, body_hash) where direction = 'inbound';
create unique index email_messages_outbound_key on email_messages (workspace_id, rfc_message_id) where direction = 'outbound';
create unique index email_messages_message_key on email_messages (workspace_id, message_id) where message_id is not null;
-- Threading looks Message-IDs and Thread-Index roots up within one workspace and inbox only.
create index email_messages_thread_idx on email_messages (workspace_id, inbox_id, rfc_message_id);
create index email_messages_thread_root_idx on email_messages (workspace_id, inbox_id, thread_root) where thread_root is not null;
create index email_messages_conversation_idx on email_messages (workspace_id, conversation_id, created_at);
create index email_messages_autoack_idx on email_messages (workspace_id, created_at) where kind = 'auto_ack';

-- The secret reply token of each email conversation (plus address: support+TOKEN@acme.test) and
-- the addresses allowed to join it by replying (the customer and who was on the thread).
create table email_conversations (
  workspace_id uuid not null,
  conversation_id uuid not null,
  inbox_id uuid not null,
  reply_token text not null unique,
  created_at timestamptz not null,
  primary key (workspace_id, conversation_id),
  foreign key (workspace_id, conversation_id) references conversations(workspace_id, id) on delete cascade
);
create table email_participants (
  workspace_id uuid not null,
  conversation_id uuid not null,
  address text not null,
  primary key (workspace_id, conversation_id, address),
  foreign key (workspace_id, conversation_id) references conversations(workspace_id, id) on delete cascade
);

create table email_attachments (
  workspace_id uuid not null,
  id uuid not null default gen_random_uuid(),
  email_message_id uuid not null,
  sha256 bytea not null,
  -- Kept only as metadata: never used as a path, escaped in the UI, RFC 6266-encoded on download.
  filename text not null,
  content_type text not null,
  size integer not null,
  content_id text,
  inline boolean not null default false,
  position integer not null,
  primary key (workspace_id, id),
  foreign key (workspace_id, email_message_id) references email_messages(workspace_id, id) on delete cascade,
  foreign key (workspace_id, sha256) references email_blobs(workspace_id, sha256)
);
create index email_attachments_message_idx on email_attachments (workspace_id, email_message_id, position);

-- IMAP polling position per inbox: resumes by UID, restarts from 0 when UIDVALIDITY changes.
create table email_imap_state (
  workspace_id uuid not null,
  inbox_id uuid not null,
  uidvalidity bigint not null,
  last_uid bigint not null default 0,
  updated_at timestamptz not null,
  last_error text,
  primary key (workspace_id, inbox_id),
  foreign key (workspace_id, inbox_id) references inboxes(workspace_id, id) on delete cascade
);

-- Outbound notices (auto-acknowledgements) per recipient, for the throttles of SECURITY E11/E12.
create table email_notice_log (
  workspace_id uuid not null,
  recipient text not null,
  created_at timestamptz not null
);
create index email_notice_log_recipient_idx on email_notice_log (workspace_id, recipient, created_at);
create index email_notice_log_workspace_idx on email_notice_log (workspace_id, created_at);

-- Inbound routing: recipient address (or catch-all domain) to email inbox, across workspaces.
create index inboxes_email_addresses_idx on inboxes using gin ((settings -> 'addresses')) where channel = 'email';
create index inboxes_email_catchall_idx on inboxes using gin ((settings -> 'catchAllDomains')) where channel = 'email';

do $$
declare t text;
begin
  foreach t in array array['email_blobs', 'email_messages', 'email_conversations', 'email_participants', 'email_attachments',
    'email_imap_state', 'email_notice_log'] loop
    execute format('alter table %I enable row level security', t);
    execute format('alter table %I force row level security', t);
    execute format($p$create policy tenant_isolation on %I
      using (workspace_id = rapport_current_workspace() or rapport_is_system())
      with check (workspace_id = rapport_current_workspace() or rapport_is_system())$p$, t);
  end loop;
end $$;
