-- Disabling an inbox (issue #10, inbox settings): an admin retires an inbox without losing its
-- history. While `disabled_at` is set, the inbox takes no new mail (inbound SMTP routing and the IMAP
-- poller skip it, a provider's webhook finds no inbox) and sends no reply (the conversations service
-- refuses an outbound message with `inboxes.disabled`); its conversations stay, readable and
-- searchable. A column of inboxes (already a tenant table with forced RLS), not a table.
alter table inboxes add column disabled_at timestamptz;
