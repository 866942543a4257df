-- IMAP polling runs once per mailbox across instances (issue #9). One row per IMAP inbox says when it
-- is due next and which instance holds it until when. An instance claims a due mailbox whose lease
-- is free or expired (FOR UPDATE SKIP LOCKED, so two instances never claim the same row), renews the
-- lease while it polls, and on finishing frees it and sets the next due time one interval later. An
-- instance that dies stops renewing: its lease expires and another instance takes the mailbox over.
create table email_imap_leases (
  workspace_id uuid not null,
  inbox_id uuid not null,
  next_poll_at timestamptz not null,
  holder text,
  held_until timestamptz,
  primary key (workspace_id, inbox_id),
  foreign key (workspace_id, inbox_id) references inboxes(workspace_id, id) on delete cascade
);
create index email_imap_leases_due on email_imap_leases (next_poll_at);
select rapport_tenant_table('email_imap_leases');
