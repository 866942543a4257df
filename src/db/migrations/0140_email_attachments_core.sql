-- The email channel stores its files through the core attachments module (migration 0080): the
-- bytes of email_blobs move to blobs, inbound attachments and agents' uploads become attachments
-- owned by their conversation message, and each raw RFC 822 source becomes an attachment owned by
-- its email ('email_source'), so the collector sees that its blob is in use. email_attachments keeps
-- only what is email's own: which email a part came in, its Content-ID, inline flag and position.
select set_config('app.system', 'on', true);

insert into blobs (workspace_id, sha256, size, content, created_at, touched_at)
select workspace_id, sha256, size, content, created_at, created_at from email_blobs;

insert into attachments (workspace_id, id, sha256, filename, content_type, size, owner_kind, owner_id, position, uploader, created_at)
select a.workspace_id, a.id, a.sha256, a.filename, a.content_type, a.size,
  case when e.message_id is null then 'email_message' else 'message' end, coalesce(e.message_id, e.id), a.position, null, e.created_at
from email_attachments a join email_messages e on e.workspace_id = a.workspace_id and e.id = a.email_message_id;

insert into attachments (workspace_id, id, sha256, filename, content_type, size, owner_kind, owner_id, position, uploader, created_at)
select e.workspace_id, gen_random_uuid(), e.raw_sha256, 'message.eml', 'message/rfc822', b.size, 'email_source', e.id, 0, null, e.created_at
from email_messages e join blobs b on b.workspace_id = e.workspace_id and b.sha256 = e.raw_sha256;

insert into attachments (workspace_id, id, sha256, filename, content_type, size, owner_kind, owner_id, position, uploader, created_at)
select workspace_id, id, sha256, filename, content_type, size,
  case when message_id is null then null else 'message' end, message_id, position, uploader, created_at
from email_uploads;

alter table email_attachments drop column sha256, drop column filename, drop column content_type, drop column size;
alter table email_attachments add foreign key (workspace_id, id) references attachments(workspace_id, id) on delete cascade;

alter table email_messages drop constraint email_messages_workspace_id_raw_sha256_fkey;
alter table email_messages add foreign key (workspace_id, raw_sha256) references blobs(workspace_id, sha256);

drop table email_uploads;
drop table email_blobs;

select set_config('app.system', 'off', true);
