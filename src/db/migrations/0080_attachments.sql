-- Attachments and uploads as a core module (src/modules/attachments), for every channel, the
-- knowledge base and the portal. Bytes are stored once per content hash per workspace (blobs);
-- attachments are the named uses of those bytes, each owned by something (an owner kind and id:
-- a conversation message today, an article or a portal request later), or not owned yet: an
-- upload staged by one principal before it sends, which the collector removes when unused.

-- Content-addressed bytes, never shared across workspaces (one workspace cannot learn that another
-- holds a file by uploading it).
create table blobs (
  workspace_id uuid not null references workspaces(id) on delete cascade,
  sha256 bytea not null check (length(sha256) = 32),
  size integer not null,
  content bytea not null,
  created_at timestamptz not null,
  -- Set again each time the same bytes are stored: the collector spares a blob that a transaction
  -- still in flight is about to reference (the row lock plus this date make that race safe).
  touched_at timestamptz not null,
  primary key (workspace_id, sha256)
);
create index blobs_touched_idx on blobs (touched_at);

create table attachments (
  workspace_id uuid not null references workspaces(id) on delete cascade,
  -- Random (128 bits of which 122 random): a download needs the id, never a guessable number (F3).
  id uuid not null default gen_random_uuid(),
  sha256 bytea not null,
  -- Only metadata (SECURITY F2): never a path; RFC 6266-encoded on download, escaped in the UI.
  filename text not null,
  content_type text not null,
  size integer not null,
  -- Who owns it: ('message', messages.id), a channel's own kind, later an article or a portal
  -- request. Both null while an upload waits to be sent.
  owner_kind text,
  owner_id uuid,
  position integer,
  -- 'user:<id>' or 'token:<id>' for an upload: only that principal may see or attach it before it is sent.
  uploader text,
  created_at timestamptz not null,
  primary key (workspace_id, id),
  foreign key (workspace_id, sha256) references blobs(workspace_id, sha256),
  check ((owner_kind is null) = (owner_id is null)),
  check (owner_kind is not null or uploader is not null)
);
create index attachments_owner_idx on attachments (workspace_id, owner_kind, owner_id, position) where owner_kind is not null;
create index attachments_blob_idx on attachments (workspace_id, sha256);
create index attachments_pending_idx on attachments (created_at) where owner_kind is null;
create index attachments_uploader_idx on attachments (workspace_id, uploader) where owner_kind is null;

select rapport_tenant_table('blobs');
select rapport_tenant_table('attachments');
