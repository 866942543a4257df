-- The conversation model opens up (issue #9): channels bring their own kinds of customer identity,
-- bots write messages, and a message can be more than text.

-- Identity kinds are rows, registered by the channels that use them (ChannelAdapter.identityKinds,
-- synchronised at start-up), instead of a check list that a new channel would have to edit. The
-- kinds known today are seeded so existing data and the API's email/phone/externalId fields keep
-- working before any channel registers.
create table identity_kinds (
  kind text primary key check (kind ~ '^[a-z][a-z0-9_]{1,31}$'),
  description text not null,
  created_at timestamptz not null default now()
);
insert into identity_kinds (kind, description) values
  ('email', 'An email address'),
  ('phone', 'A phone number in E.164-like digits'),
  ('external_id', 'An id in the workspace''s own systems'),
  ('chat_visitor', 'A visitor of the website chat'),
  ('whatsapp', 'A WhatsApp account'),
  ('messenger', 'A Facebook Messenger page-scoped id'),
  ('telegram', 'A Telegram user id');

alter table customer_identities drop constraint customer_identities_kind_check;
alter table customer_identities add constraint customer_identities_kind_fkey foreign key (kind) references identity_kinds (kind);

-- A bot (the chat assistant to come) authors messages of its own; author_id stays null or names it.
alter table messages drop constraint messages_author_type_check;
alter table messages add constraint messages_author_type_check check (author_type in ('customer', 'user', 'token', 'system', 'bot'));

-- What a message is: text (every message so far), a call a channel reports, or a notice the system
-- writes into the thread. The API shows `kind` only when it is not text, so answers stay as they were.
alter table messages add column kind text not null default 'text' check (kind in ('text', 'call', 'system_notice'));
