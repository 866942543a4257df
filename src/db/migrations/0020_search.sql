-- Indexed search (issue #8, M7). Under forced row-level security PostgreSQL uses a condition of the
-- query as an index condition only if its operator is LEAKPROOF (the policy's check must run first),
-- and the full-text match `@@` is not (marking it so takes a superuser). So the GIN indexes on
-- conversations.subject_search and messages.search were never used by the application role: every
-- search read the whole workspace (0.6-0.8 s at 80,000 conversations).
--
-- Conditions that come from a policy are evaluated at the policy's own level and may use any index.
-- search_documents holds one full-text document per message and per subject, and its SELECT policy
-- *is* the search: the workspace in app.workspace_id and the query in app.search_query, both set
-- for one transaction only (set_config(..., true)). Without a search query it shows no row at all.
-- Rows are only inserted (a renamed subject adds a document; the stale one is filtered out by the
-- recheck against the live subject) and go away with their conversation (ON DELETE CASCADE: the
-- referential action is not subject to the SELECT policy).
create extension if not exists btree_gin;

create function rapport_search_query() returns tsquery language sql stable as $$
  select nullif(current_setting('app.search_query', true), '')::tsquery
$$;

create table search_documents (
  workspace_id uuid not null,
  conversation_id uuid not null,
  -- The message the text comes from; null for the conversation's subject.
  message_id uuid,
  search tsvector not null,
  foreign key (workspace_id, conversation_id) references conversations(workspace_id, id) on delete cascade
);
-- The workspace leads both indexes: one workspace's common word never costs another workspace a read.
create index search_documents_search_idx on search_documents using gin (workspace_id, search);
-- For the cascade when conversations go away. Keyed by the conversation alone (a random uuid, so one
-- conversation's entries only): led by workspace_id it would offer the planner a read of the whole
-- workspace's documents, which it took over the word index in tests.
create index search_documents_conversation_idx on search_documents (conversation_id);

alter table search_documents enable row level security;
alter table search_documents force row level security;
create policy tenant_insert on search_documents for insert
  with check (workspace_id = rapport_current_workspace() or rapport_is_system());
create policy tenant_search on search_documents for select
  using (workspace_id = rapport_current_workspace() and search @@ rapport_search_query());

-- Existing text, read in the system context (this migration runs as the application role).
select set_config('app.system', 'on', true);
insert into search_documents (workspace_id, conversation_id, message_id, search)
  select workspace_id, conversation_id, id, search from messages where search <> ''::tsvector;
insert into search_documents (workspace_id, conversation_id, message_id, search)
  select workspace_id, id, null, subject_search from conversations where subject_search <> ''::tsvector;
select set_config('app.system', '', true);

-- Unusable by the application role (see above): they only cost every write.
drop index conversations_subject_search_idx;
drop index messages_search_idx;

-- Customer name prefix search: a stored lower-case name compared with LEAKPROOF text_pattern
-- operators (~>=~, ~<~), so the range is an index condition under row-level security (lower() and
-- LIKE are not leakproof: on the expression they would only filter).
alter table customers add column name_key text generated always as (lower(name)) stored;
create index customers_name_key_idx on customers (workspace_id, name_key text_pattern_ops);
