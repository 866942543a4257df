-- The priority views (open and pending conversations of one priority, by last activity) and their
-- capped counts (GET conversations/counts): without it, a rare priority in a large workspace is
-- found by walking every open conversation in conversations_status_activity_idx.
create index conversations_priority_activity_idx on conversations (workspace_id, priority, status, last_activity_at desc, id desc);
