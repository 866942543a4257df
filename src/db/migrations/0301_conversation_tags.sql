-- The tag views at 1,000,000 conversations (issue #14). Under forced row-level security the array
-- operator `@>` is never an index condition (it is not LEAKPROOF; see 0020_search.sql), so a tag
-- filter was checked row by row along the list's order: a tag on no conversation read the whole
-- workspace (8.0 s at 1M). conversation_tags holds one row per (conversation, tag) with the
-- conversation's status and both list sort keys, so a tag view is an ordered index walk of equality
-- conditions, which row-level security lets the planner use.
--
-- Kept in step by triggers on conversations, in the statement that changes the conversation, and
-- only for conversations that have or had tags (the WHEN clauses): an untagged conversation's write
-- path does not touch this table.
create table conversation_tags (
  workspace_id uuid not null,
  conversation_id uuid not null,
  tag text not null,
  status text not null,
  last_activity_at timestamptz not null,
  -- coalesce(waiting_since, 'infinity'): the waiting_longest order (0300_inbox_sort_indexes.sql).
  waiting_key timestamptz not null,
  primary key (workspace_id, conversation_id, tag),
  foreign key (workspace_id, conversation_id) references conversations(workspace_id, id) on delete cascade
);
create index conversation_tags_activity_idx on conversation_tags (workspace_id, tag, status, last_activity_at desc, conversation_id desc);
create index conversation_tags_waiting_idx on conversation_tags (workspace_id, tag, status, waiting_key, conversation_id);

create function rapport_conversation_tags_sync() returns trigger language plpgsql as $$
begin
  if tg_op = 'UPDATE' then
    if new.tags = old.tags then
      update conversation_tags
         set status = new.status, last_activity_at = new.last_activity_at, waiting_key = coalesce(new.waiting_since, 'infinity')
       where workspace_id = new.workspace_id and conversation_id = new.id;
      return null;
    end if;
    delete from conversation_tags where workspace_id = old.workspace_id and conversation_id = old.id;
  end if;
  insert into conversation_tags (workspace_id, conversation_id, tag, status, last_activity_at, waiting_key)
  select distinct new.workspace_id, new.id, t, new.status, new.last_activity_at, coalesce(new.waiting_since, 'infinity')
  from unnest(new.tags) t;
  return null;
end $$;

create trigger conversations_tags_insert after insert on conversations
  for each row when (new.tags <> '{}') execute function rapport_conversation_tags_sync();
create trigger conversations_tags_update after update of tags, status, last_activity_at, waiting_since on conversations
  for each row when ((old.tags <> '{}' or new.tags <> '{}')
    and (old.tags is distinct from new.tags or old.status is distinct from new.status
         or old.last_activity_at is distinct from new.last_activity_at or old.waiting_since is distinct from new.waiting_since))
  execute function rapport_conversation_tags_sync();

select rapport_tenant_table('conversation_tags');

-- The backfill reads every workspace's rows: system context for this transaction only.
select set_config('app.system', 'on', true);
insert into conversation_tags (workspace_id, conversation_id, tag, status, last_activity_at, waiting_key)
select distinct c.workspace_id, c.id, t, c.status, c.last_activity_at, coalesce(c.waiting_since, 'infinity')
from conversations c, unnest(c.tags) t where c.tags <> '{}';
select set_config('app.system', 'off', true);
