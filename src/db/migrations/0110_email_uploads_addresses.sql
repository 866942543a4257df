-- The email channel, second step: files agents upload for their replies, and one owner for every
-- inbound address and catch-all domain across all workspaces.

-- Files uploaded for an outbound reply (POST .../email/uploads). The bytes live in email_blobs like
-- inbound attachments; the id is random and bound to the workspace and to the uploader (SECURITY F3):
-- only the same user or token can attach it to a reply, and only once.
create table email_uploads (
  workspace_id uuid not null references workspaces(id) on delete cascade,
  id uuid not null default gen_random_uuid(),
  -- 'user:<id>' or 'token:<id>', as the request's principal.
  uploader text not null,
  sha256 bytea not null,
  -- Kept only as metadata (SECURITY F2): never a path; RFC 6266-encoded on download, RFC 2231 in mail.
  filename text not null check (length(filename) between 1 and 255),
  content_type text not null,
  size integer not null,
  created_at timestamptz not null,
  -- The reply it was sent with; null while unused.
  message_id uuid,
  position integer,
  primary key (workspace_id, id),
  foreign key (workspace_id, sha256) references email_blobs(workspace_id, sha256),
  foreign key (workspace_id, message_id) references messages(workspace_id, id) on delete cascade
);
create index email_uploads_message_idx on email_uploads (workspace_id, message_id, position) where message_id is not null;

-- The addresses and catch-all domains of email inboxes, kept by the email channel whenever an inbox
-- is saved. Inbound routing reads it; its unique index is what stops a workspace from claiming an
-- address (or domain) another workspace already receives mail for, even when two saves race.
create table email_inbox_addresses (
  workspace_id uuid not null,
  inbox_id uuid not null,
  kind text not null check (kind in ('address', 'domain')),
  -- A canonical address (local@domain, lower-cased) or a domain.
  value text not null,
  -- The domain part of an address, or the domain itself: for the address-versus-catch-all checks.
  domain text not null,
  primary key (workspace_id, inbox_id, kind, value),
  foreign key (workspace_id, inbox_id) references inboxes(workspace_id, id) on delete cascade
);
-- Deliberately global (not per workspace): an address routes to one inbox of one workspace.
create unique index email_inbox_addresses_claim on email_inbox_addresses (kind, value);
create index email_inbox_addresses_domain_idx on email_inbox_addresses (domain, kind);

-- Existing inboxes: the oldest claim wins, as inbound routing already decided before this table.
select set_config('app.system', 'on', true);
insert into email_inbox_addresses (workspace_id, inbox_id, kind, value, domain)
select i.workspace_id, i.id, 'address', a.value, split_part(a.value, '@', 2)
from inboxes i cross join lateral jsonb_array_elements_text(case when jsonb_typeof(i.settings -> 'addresses') = 'array' then i.settings -> 'addresses' else '[]'::jsonb end) a(value)
where i.channel = 'email'
order by i.created_at, i.id
on conflict do nothing;
insert into email_inbox_addresses (workspace_id, inbox_id, kind, value, domain)
select i.workspace_id, i.id, 'domain', d.value, d.value
from inboxes i cross join lateral jsonb_array_elements_text(case when jsonb_typeof(i.settings -> 'catchAllDomains') = 'array' then i.settings -> 'catchAllDomains' else '[]'::jsonb end) d(value)
where i.channel = 'email'
order by i.created_at, i.id
on conflict do nothing;
select set_config('app.system', 'off', true);

do $$
declare t text;
begin
  foreach t in array array['email_uploads', 'email_inbox_addresses'] loop
    execute format('alter table %I enable row level security', t);
    execute format('alter table %I force row level security', t);
    execute format($p$create policy tenant_isolation on %I
      using (workspace_id = rapport_current_workspace() or rapport_is_system())
      with check (workspace_id = rapport_current_workspace() or rapport_is_system())$p$, t);
  end loop;
end $$;
