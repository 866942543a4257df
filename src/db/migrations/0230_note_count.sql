-- Privacy by role (issue #9): a client viewer is told how many messages a conversation has without
-- its internal notes (message_count - note_count), so the number does not reveal that notes exist.
-- Kept in step by the same statement that keeps message_count (conversations.repository afterMessage).
alter table conversations add column note_count integer not null default 0;

-- The backfill reads every workspace's rows: system context for this transaction only.
select set_config('app.system', 'on', true);
update conversations c set note_count = n.count
from (select workspace_id, conversation_id, count(*)::int as count from messages where type = 'note' group by 1, 2) n
where c.workspace_id = n.workspace_id and c.id = n.conversation_id;
select set_config('app.system', 'off', true);
