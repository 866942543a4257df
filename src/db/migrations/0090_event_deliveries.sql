-- Ordered delivery (src/events/dispatcher.ts): the events an `ordered` subscriber still has to handle,
-- per conversation. The dispatcher adds a row when it hands a committed event over; the subscriber's
-- one job per conversation takes them lowest event id first and deletes each once handled, so a
-- failed event holds back the later ones of its conversation instead of being overtaken by them.
-- A row with failed_at set is a dead letter: it failed every attempt and no longer blocks the others.
create table event_deliveries (
  workspace_id uuid not null references workspaces (id) on delete cascade,
  subscriber text not null,
  conversation_id uuid not null,
  event_id bigint not null references events (id) on delete cascade,
  attempts int not null default 0,
  last_error text,
  failed_at timestamptz,
  primary key (workspace_id, subscriber, conversation_id, event_id)
);
create index event_deliveries_dead_idx on event_deliveries (workspace_id, failed_at) where failed_at is not null;
select rapport_tenant_table('event_deliveries');
