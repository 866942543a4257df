-- A client viewer's inbox order (issue #9 review). 0260 gave client viewers last_public_activity_at as
-- the time they read, but their lists still sorted by last_activity_at, which a note moves: a note
-- reordered a client viewer's list, and the list cursor (the sort key as text) carried the note's
-- exact time. A client viewer's list now sorts and keys its cursor by last_public_activity_at
-- (conversations.repository.ts, the `last_public_activity` order). These are its index walks: by
-- status (every list view walks one status at a time when it has any) and without one.
create index conversations_status_public_activity_idx on conversations (workspace_id, status, last_public_activity_at desc, id desc);
create index conversations_public_activity_idx on conversations (workspace_id, last_public_activity_at desc, id desc);

-- The tag views (conversation_tags, 0301) hold no public sort key: 0301 runs after this file on a
-- new database, and this part's migration numbers are 0280-0281. A client viewer's tag view reads
-- conversations along the index above with the tag checked per row (conversations.repository.ts
-- listSourceSql): exact, and slower for a rare tag at 1M rows than an agent's; a public key in
-- conversation_tags is the follow-up.
