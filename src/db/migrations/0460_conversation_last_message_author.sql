-- Who wrote the message the inbox row previews (issue #10: "You: …", "Ana: …" or the customer's
-- words), kept in the conversation's row beside last_message_preview and last_message_type so the
-- inbox list reads it with the row it already reads: no join, no per-row probe. Written by the same
-- statements that write the preview (the create and after_message); the author's name is looked up
-- once per page (conversations.service.ts). Nullable columns without default rewrite nothing; rows
-- written before this migration have none, and the API then says only the kind of author that the
-- message type implies (inbound: the customer; outbound: an agent).
alter table conversations
  add column last_message_author_type text,
  add column last_message_author_id uuid;
