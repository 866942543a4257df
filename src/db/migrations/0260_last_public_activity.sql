-- Privacy by role (issue #9 review): an internal note moves last_activity_at, so a client viewer who
-- saw that time move without a new message learned that a note exists, and when. Client viewers read
-- last_public_activity_at instead: it moves with everything last_activity_at does except notes.
-- Kept in step by the statements that move last_activity_at (conversations.repository afterMessage,
-- insert, and the reopening on a customer's reply).
alter table conversations add column last_public_activity_at timestamptz;

-- The backfill reads every workspace's rows: system context for this transaction only.
select set_config('app.system', 'on', true);
update conversations set last_public_activity_at = last_activity_at where note_count = 0;
update conversations c set last_public_activity_at = coalesce(
  (select max(m.created_at) from messages m where m.workspace_id = c.workspace_id and m.conversation_id = c.id and m.type <> 'note'),
  c.created_at)
where c.note_count > 0;
select set_config('app.system', 'off', true);

alter table conversations alter column last_public_activity_at set not null;

-- A conversation is created with its first, public message, so a row inserted without the column
-- (bulk loads, older code paths, tests seeding rows) starts with its last_activity_at.
create function rapport_conversations_public_activity() returns trigger language plpgsql as $$
begin
  new.last_public_activity_at := coalesce(new.last_public_activity_at, new.last_activity_at);
  return new;
end $$;
create trigger conversations_public_activity before insert on conversations
  for each row execute function rapport_conversations_public_activity();
