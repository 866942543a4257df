-- Realtime resume replays one workspace's events after an id: (workspace_id, id) serves it without
-- walking other workspaces' events (events_conversation_idx leads with conversation_id after workspace).
create index events_workspace_id_idx on events (workspace_id, id);
