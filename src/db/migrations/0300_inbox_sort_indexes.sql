-- Every filter and sort of the inbox at 1,000,000 conversations (issue #14).
--
-- `waiting_longest` orders by when the customer started waiting, oldest first, conversations nobody
-- waits on last. As the expression coalesce(waiting_since, 'infinity') it is one total order with
-- the id, so a cursor is one row comparison and an index walk (the list query writes the same
-- expression; conversations.repository.ts listSourceSql). Before this index the sort read and sorted
-- every matching row (3.7 s for the open conversations of a 1M workspace).
--
-- One index serves every view in this order: the list query walks it once per status (a UNION ALL
-- merged by the outer ORDER BY), and the other filters of the views (assignee, team, priority,
-- inbox) are trailing key columns, checked on the index entries without reading the rows. One index
-- instead of one per view keeps the write path's cost to a single extra entry per update.
create index conversations_status_waiting_idx on conversations
  (workspace_id, status, (coalesce(waiting_since, 'infinity'::timestamptz)), id, assignee_id, team_id, priority, inbox_id);
