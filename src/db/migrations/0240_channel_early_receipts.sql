-- Delivery receipts that arrived before the reply they name had its provider id recorded: the
-- provider took the message and called the webhook before the outbound job wrote the id it
-- answered. Kept briefly (the sweeper purges them after an hour) and applied when a reply records
-- that provider id (channels.outbound.ts), so no receipt is lost to that race.
create table channel_early_receipts (
  workspace_id uuid not null,
  inbox_id uuid not null,
  provider_id text not null check (length(provider_id) between 1 and 500),
  status text not null check (status in ('sent', 'delivered', 'read', 'failed')),
  reason text,
  received_at timestamptz not null,
  primary key (workspace_id, inbox_id, provider_id, status),
  foreign key (workspace_id, inbox_id) references inboxes(workspace_id, id) on delete cascade
);
-- The purge, across workspaces, by age.
create index channel_early_receipts_age_idx on channel_early_receipts (received_at);
select rapport_tenant_table('channel_early_receipts');
