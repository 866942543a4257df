-- The claim of a reply's current attempt: set by the `channels.send` job under the row lock before it
-- calls the channel, cleared by whatever records the outcome. A second copy of the same attempt's job
-- (the sweeper re-adds a job key while graphile-worker still runs the first copy, which then runs
-- twice) finds a fresh claim and does nothing, and the sweeper leaves a freshly claimed row alone:
-- one attempt, one send.
alter table channel_messages add column attempt_started_at timestamptz;
-- The sweeper's query (replies still queued past their next attempt), across workspaces: only the
-- queued outbound rows, in the order it reads them, instead of a scan of every channel message.
create index channel_messages_queued_idx on channel_messages ((coalesce(next_attempt_at, updated_at)))
  where direction = 'outbound' and status = 'queued';
