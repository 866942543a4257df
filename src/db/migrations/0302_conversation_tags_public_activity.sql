-- A client viewer's tag views as an index walk (issue #9). A client viewer's lists sort by
-- last_public_activity_at (0280: a note must not reorder them), which conversation_tags (0301) did not
-- hold, so their tag views walked conversations' public activity index and checked the tag per row:
-- slow for a rare tag at 1M conversations. conversation_tags now carries last_public_activity_at too,
-- kept by the same triggers in the same statement, with the index a client viewer's tag view walks
-- (conversations.repository.ts listSourceSql).
alter table conversation_tags add column last_public_activity_at timestamptz;

create or replace function rapport_conversation_tags_sync() returns trigger language plpgsql as $$
begin
  if tg_op = 'UPDATE' then
    if new.tags = old.tags then
      update conversation_tags
         set status = new.status, last_activity_at = new.last_activity_at, last_public_activity_at = new.last_public_activity_at,
             waiting_key = coalesce(new.waiting_since, 'infinity')
       where workspace_id = new.workspace_id and conversation_id = new.id;
      return null;
    end if;
    delete from conversation_tags where workspace_id = old.workspace_id and conversation_id = old.id;
  end if;
  insert into conversation_tags (workspace_id, conversation_id, tag, status, last_activity_at, last_public_activity_at, waiting_key)
  select distinct new.workspace_id, new.id, t, new.status, new.last_activity_at, new.last_public_activity_at, coalesce(new.waiting_since, 'infinity')
  from unnest(new.tags) t;
  return null;
end $$;

-- The update trigger also fires when only the public activity moves (a public message moves both
-- times; nothing moves it alone today, but the copy must not depend on that).
drop trigger conversations_tags_update on conversations;
create trigger conversations_tags_update after update of tags, status, last_activity_at, last_public_activity_at, waiting_since on conversations
  for each row when ((old.tags <> '{}' or new.tags <> '{}')
    and (old.tags is distinct from new.tags or old.status is distinct from new.status
         or old.last_activity_at is distinct from new.last_activity_at
         or old.last_public_activity_at is distinct from new.last_public_activity_at
         or old.waiting_since is distinct from new.waiting_since))
  execute function rapport_conversation_tags_sync();

-- The backfill reads every workspace's rows: system context for this transaction only.
select set_config('app.system', 'on', true);
update conversation_tags t set last_public_activity_at = c.last_public_activity_at
  from conversations c where c.workspace_id = t.workspace_id and c.id = t.conversation_id;
select set_config('app.system', 'off', true);
alter table conversation_tags alter column last_public_activity_at set not null;

create index conversation_tags_public_activity_idx on conversation_tags (workspace_id, tag, status, last_public_activity_at desc, conversation_id desc);
