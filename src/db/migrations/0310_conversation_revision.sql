-- A conversation's revision (issue 14): a counter that every UPDATE of the row raises by one, so the
-- agent app can tell which of two copies of a conversation is the newer (web/src/realtime/apply.ts
-- keeps the higher one when a realtime frame and a fetched page disagree). updated_at cannot tell:
-- a note changes the row (message_count, last_activity_at) without moving it, so the client viewer's
-- "updated" stays honest, and two changes may share a millisecond.
--
-- Raised by a BEFORE UPDATE trigger rather than by each statement, so no writer can forget it; an
-- insert starts at 0 and pays nothing (the write path's create is an insert). Adding a column with a
-- constant default rewrites nothing.
alter table conversations add column revision integer not null default 0;

create function rapport_conversations_revision() returns trigger language plpgsql as $$
begin
  new.revision := old.revision + 1;
  return new;
end $$;
create trigger conversations_revision before update on conversations
  for each row execute function rapport_conversations_revision();
