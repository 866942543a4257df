-- Webhook deliveries already taken, so a replayed call (an attacker resending a captured one, or a
-- provider retrying one that was applied) is answered 200 without being applied twice. The key is
-- the delivery id the channel's adapter read from the signed request, or a hash of the signed bytes.
-- Kept a day (the channels sweeper purges older rows): a signed timestamp older than five minutes is
-- refused anyway, so a day covers every replay that could still pass the signature check.
create table channel_webhook_deliveries (
  workspace_id uuid not null,
  inbox_id uuid not null,
  delivery_key text not null check (length(delivery_key) between 1 and 500),
  received_at timestamptz not null,
  primary key (workspace_id, inbox_id, delivery_key),
  foreign key (workspace_id, inbox_id) references inboxes(workspace_id, id) on delete cascade
);
-- The purge, across workspaces, by age.
create index channel_webhook_deliveries_age_idx on channel_webhook_deliveries (received_at);
select rapport_tenant_table('channel_webhook_deliveries');
