import type { Queryable } from '../../../db/pool.js';
import { storedFileCtes } from '../../attachments/attachments.service.js';

/** The only SQL of the email channel. Every statement names workspace_id, except the routing look-ups that run in a system context. */
export interface EmailInboxRow {
  workspace_id: string;
  id: string;
  settings: Record<string, unknown>;
}

export interface OutboundRow {
  id: string;
  inbox_id: string;
  conversation_id: string | null;
  message_id: string | null;
  rfc_message_id: string;
  kind: 'message' | 'reply' | 'auto_ack';
  recipients: string[];
  delivery_status: 'queued' | 'sent' | 'failed' | null;
  /** Read by outboundOfMessage only (an older version's failure reason). */
  delivery_error?: string | null;
}

export const emailRepository = {
  /**
   * Inbound routing (system context): the email inbox that owns an address. Only a verified claim
   * routes (SECURITY H2); the partial unique index on verified values makes it one owner. A disabled
   * inbox routes nothing: its mail is refused like mail to an unknown address (550), so the sender hears.
   */
  async inboxByAddress(tx: Queryable, address: string): Promise<EmailInboxRow | undefined> {
    const { rows } = await tx.query<EmailInboxRow>(
      `select i.workspace_id, i.id, i.settings from email_inbox_addresses a
       join inboxes i on i.workspace_id = a.workspace_id and i.id = a.inbox_id
       where a.kind = 'address' and a.value = $1 and a.status = 'verified' and i.channel = 'email' and i.disabled_at is null`,
      [address],
    );
    return rows[0];
  },

  async inboxByCatchAll(tx: Queryable, domain: string): Promise<EmailInboxRow | undefined> {
    const { rows } = await tx.query<EmailInboxRow>(
      `select i.workspace_id, i.id, i.settings from email_inbox_addresses a
       join inboxes i on i.workspace_id = a.workspace_id and i.id = a.inbox_id
       where a.kind = 'domain' and a.value = $1 and a.status = 'verified' and i.channel = 'email' and i.disabled_at is null`,
      [domain],
    );
    return rows[0];
  },

  /** Whether an address is one of the workspace's own, proven inbox addresses (a pending claim proves nothing). */
  async isInboxAddress(tx: Queryable, ws: string, address: string): Promise<boolean> {
    const { rowCount } = await tx.query(`select 1 from email_inbox_addresses where workspace_id = $1 and kind = 'address' and value = $2 and status = 'verified'`, [ws, address]);
    return rowCount === 1;
  },

  /**
   * An inbound email once its conversation message exists, in one statement (the SMTP 250 waits on
   * it): the raw source's bytes and file row (attachments module's fragment), the email row with its
   * deduplication key (SECURITY E2) and its link to the conversation message, its parts' Content-IDs,
   * a new conversation's reply token, and the participants. Returns false when the same message is
   * already stored (or is being stored by a concurrent delivery, which this insert waits for): the
   * caller rolls everything back.
   */
  async recordInbound(
    tx: Queryable,
    m: {
      workspaceId: string;
      id: string;
      inboxId: string;
      rfcMessageId: string;
      bodyHash: Buffer;
      raw: Uint8Array;
      rawSha256: Buffer;
      threadRoot: string | null;
      fromAddress: string | null;
      recipients: string[];
      via: 'smtp' | 'imap';
      parseStatus: 'parsed' | 'unparsed';
      parseError: string | null;
      conversationId: string;
      messageId: string;
      parts: { id: string; contentId: string | null; inline: boolean }[];
      /** A new conversation's reply token; null when the email joined an existing one. */
      replyToken: string | null;
      participants: string[];
      sourceOwnerKind: string;
      at: Date;
    },
  ): Promise<boolean> {
    const source = storedFileCtes({
      ws: '$1',
      sha256: '$6',
      size: '$18',
      content: '$17',
      filename: "'message.eml'",
      contentType: "'message/rfc822'",
      ownerKind: '$19',
      owner: 'e',
      at: '$13',
    });
    const { rows } = await tx.query<{ id: string }>(
      `with raw_bytes as (${source.bytes}),
       e as (
         insert into email_messages (workspace_id, id, inbox_id, direction, kind, rfc_message_id, body_hash, raw_sha256, thread_root, from_address,
           recipients, received_via, parse_status, parse_error, created_at, conversation_id, message_id)
         values ($1, $2, $3, 'inbound', 'message', $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
         on conflict (workspace_id, inbox_id, rfc_message_id, body_hash) where direction = 'inbound' do nothing
         returning id),
       raw_file as (${source.file}),
       parts as (
         insert into email_attachments (workspace_id, id, email_message_id, content_id, inline, position)
         select $1, i, e.id, cid, il, (p - 1)::int from e, unnest($20::uuid[], $21::text[], $22::boolean[]) with ordinality as t(i, cid, il, p)),
       conv as (
         insert into email_conversations (workspace_id, conversation_id, inbox_id, reply_token, created_at)
         select $1, $14, $3, $16, $13 from e where $16::text is not null
         on conflict (workspace_id, conversation_id) do nothing),
       people as (
         insert into email_participants (workspace_id, conversation_id, address) select $1, $14, a from e, unnest($23::text[]) a on conflict do nothing)
       select id from e`,
      [
        m.workspaceId,
        m.id,
        m.inboxId,
        m.rfcMessageId,
        m.bodyHash,
        m.rawSha256,
        m.threadRoot,
        m.fromAddress,
        m.recipients,
        m.via,
        m.parseStatus,
        m.parseError,
        m.at,
        m.conversationId,
        m.messageId,
        m.replyToken,
        Buffer.from(m.raw.buffer, m.raw.byteOffset, m.raw.byteLength),
        m.raw.byteLength,
        m.sourceOwnerKind,
        m.parts.map((p) => p.id),
        m.parts.map((p) => p.contentId),
        m.parts.map((p) => p.inline),
        m.participants,
      ],
    );
    return rows.length === 1;
  },

  async findInbound(tx: Queryable, ws: string, inboxId: string, rfcMessageId: string, bodyHash: Buffer) {
    const { rows } = await tx.query<{ id: string; conversation_id: string | null; message_id: string | null }>(
      `select id, conversation_id, message_id from email_messages
       where workspace_id = $1 and inbox_id = $2 and direction = 'inbound' and rfc_message_id = $3 and body_hash = $4`,
      [ws, inboxId, rfcMessageId, bodyHash],
    );
    return rows[0];
  },

  // Threading: every look-up is bound to one workspace and one inbox (SECURITY E7).
  async conversationByToken(tx: Queryable, ws: string, inboxId: string, token: string): Promise<string | undefined> {
    const { rows } = await tx.query<{ conversation_id: string }>('select conversation_id from email_conversations where workspace_id = $1 and inbox_id = $2 and reply_token = $3', [
      ws,
      inboxId,
      token,
    ]);
    return rows[0]?.conversation_id;
  },

  async conversationByMessageIds(tx: Queryable, ws: string, inboxId: string, ids: string[]): Promise<string | undefined> {
    if (ids.length === 0) return undefined;
    const { rows } = await tx.query<{ conversation_id: string }>(
      `select conversation_id from email_messages
       where workspace_id = $1 and inbox_id = $2 and rfc_message_id = any($3::text[]) and rfc_message_id <> '' and conversation_id is not null
       order by created_at desc limit 1`,
      [ws, inboxId, ids],
    );
    return rows[0]?.conversation_id;
  },

  async conversationByThreadRoot(tx: Queryable, ws: string, inboxId: string, root: string): Promise<string | undefined> {
    const { rows } = await tx.query<{ conversation_id: string }>(
      `select conversation_id from email_messages where workspace_id = $1 and inbox_id = $2 and thread_root = $3 and conversation_id is not null
       order by created_at desc limit 1`,
      [ws, inboxId, root],
    );
    return rows[0]?.conversation_id;
  },

  async replyToken(tx: Queryable, ws: string, conversationId: string): Promise<string | undefined> {
    const { rows } = await tx.query<{ reply_token: string }>('select reply_token from email_conversations where workspace_id = $1 and conversation_id = $2', [ws, conversationId]);
    return rows[0]?.reply_token;
  },

  async addParticipants(tx: Queryable, ws: string, conversationId: string, addresses: string[]): Promise<void> {
    if (addresses.length === 0) return;
    await tx.query(`insert into email_participants (workspace_id, conversation_id, address) select $1, $2, unnest($3::text[]) on conflict do nothing`, [ws, conversationId, addresses]);
  },

  async isParticipant(tx: Queryable, ws: string, conversationId: string, address: string): Promise<boolean> {
    const { rowCount } = await tx.query('select 1 from email_participants where workspace_id = $1 and conversation_id = $2 and address = $3', [ws, conversationId, address]);
    return rowCount === 1;
  },

  /** Message-IDs of a conversation, oldest first, for References (RFC 5322 §3.6.4). */
  async threadMessageIds(tx: Queryable, ws: string, conversationId: string, limit = 30): Promise<{ rfc_message_id: string; direction: string }[]> {
    const { rows } = await tx.query<{ rfc_message_id: string; direction: string }>(
      `select rfc_message_id, direction from (
         select rfc_message_id, direction, created_at, id from email_messages
         where workspace_id = $1 and conversation_id = $2 and rfc_message_id <> '' order by created_at desc, id desc limit $3) t
       order by created_at, id`,
      [ws, conversationId, limit],
    );
    return rows;
  },

  async insertOutbound(
    tx: Queryable,
    m: {
      workspaceId: string;
      inboxId: string;
      conversationId: string;
      messageId: string | null;
      kind: 'reply' | 'auto_ack';
      rfcMessageId: string;
      recipients: string[];
      /** 'queued' for an acknowledgement (its own job); null for a reply, whose delivery is the channel core's (channel_messages). */
      deliveryStatus: 'queued' | null;
      at: Date;
    },
  ): Promise<string | null> {
    const { rows } = await tx.query<{ id: string }>(
      `insert into email_messages (workspace_id, inbox_id, conversation_id, message_id, direction, kind, rfc_message_id, body_hash, recipients, delivery_status, created_at)
       values ($1, $2, $3, $4, 'outbound', $5, $6, '\\x', $7, $8, $9)
       on conflict (workspace_id, rfc_message_id) where direction = 'outbound' do nothing returning id`,
      [m.workspaceId, m.inboxId, m.conversationId, m.messageId, m.kind, m.rfcMessageId, m.recipients, m.deliveryStatus, m.at],
    );
    return rows[0]?.id ?? null;
  },

  /**
   * To whom an agent opened the conversation by email: the first recipient of its first email, when
   * that email went out (an agent wrote first); undefined when the customer wrote first.
   */
  async openingRecipient(tx: Queryable, ws: string, conversationId: string): Promise<string | undefined> {
    const { rows } = await tx.query<{ direction: string; recipients: string[] }>(
      `select direction, recipients from email_messages where workspace_id = $1 and conversation_id = $2 order by created_at, id limit 1`,
      [ws, conversationId],
    );
    return rows[0]?.direction === 'outbound' ? rows[0].recipients[0] : undefined;
  },

  /** The sent email a conversation message became (a reply). */
  async outboundOfMessage(tx: Queryable, ws: string, messageId: string): Promise<OutboundRow | undefined> {
    const { rows } = await tx.query<OutboundRow>(
      `select id, inbox_id, conversation_id, message_id, rfc_message_id, kind, recipients, delivery_status, delivery_error
       from email_messages where workspace_id = $1 and message_id = $2 and direction = 'outbound'`,
      [ws, messageId],
    );
    return rows[0];
  },

  async outbound(tx: Queryable, ws: string, id: string): Promise<OutboundRow | undefined> {
    const { rows } = await tx.query<OutboundRow>(
      `select id, inbox_id, conversation_id, message_id, rfc_message_id, kind, recipients, delivery_status
       from email_messages where workspace_id = $1 and id = $2 and direction = 'outbound' for update`,
      [ws, id],
    );
    return rows[0];
  },

  async setDelivery(tx: Queryable, ws: string, id: string, status: 'queued' | 'sent' | 'failed' | null, error: string | null): Promise<void> {
    await tx.query('update email_messages set delivery_status = $3, delivery_error = $4 where workspace_id = $1 and id = $2', [ws, id, status, error]);
  },

  /** The email a conversation message was (its raw source is the attachment it owns as 'email_source'). */
  /** Which of `ids` are emails of the workspace (the attachments collector asks, in a system transaction). */
  async existingEmails(tx: Queryable, ws: string, ids: string[]): Promise<string[]> {
    const { rows } = await tx.query<{ id: string }>('select id from email_messages where workspace_id = $1 and id = any($2::uuid[])', [ws, ids]);
    return rows.map((r) => r.id);
  },

  async emailOfMessage(tx: Queryable, ws: string, messageId: string): Promise<string | undefined> {
    const { rows } = await tx.query<{ id: string }>('select id from email_messages where workspace_id = $1 and message_id = $2 and raw_sha256 is not null', [ws, messageId]);
    return rows[0]?.id;
  },

  async imapState(tx: Queryable, ws: string, inboxId: string) {
    const { rows } = await tx.query<{ uidvalidity: string; last_uid: string }>('select uidvalidity, last_uid from email_imap_state where workspace_id = $1 and inbox_id = $2', [ws, inboxId]);
    return rows[0] ? { uidValidity: BigInt(rows[0].uidvalidity), lastUid: Number(rows[0].last_uid) } : undefined;
  },

  async saveImapState(tx: Queryable, ws: string, inboxId: string, uidValidity: bigint, lastUid: number, at: Date, error: string | null = null): Promise<void> {
    await tx.query(
      `insert into email_imap_state (workspace_id, inbox_id, uidvalidity, last_uid, updated_at, last_error) values ($1, $2, $3, $4, $5, $6)
       on conflict (workspace_id, inbox_id) do update set uidvalidity = excluded.uidvalidity,
         last_uid = case when email_imap_state.uidvalidity = excluded.uidvalidity then greatest(email_imap_state.last_uid, excluded.last_uid) else excluded.last_uid end,
         updated_at = excluded.updated_at, last_error = excluded.last_error`,
      [ws, inboxId, uidValidity.toString(), lastUid, at, error],
    );
  },

  async noticesSince(tx: Queryable, ws: string, recipient: string, since: Date): Promise<{ recipient: number; workspace: number }> {
    const { rows } = await tx.query<{ r: number; w: number }>(
      `select (select count(*)::int from email_notice_log where workspace_id = $1 and recipient = $2 and created_at > $3) as r,
              (select count(*)::int from email_notice_log where workspace_id = $1 and created_at > $3) as w`,
      [ws, recipient, since],
    );
    return { recipient: rows[0].r, workspace: rows[0].w };
  },

  async logNotice(tx: Queryable, ws: string, recipient: string, at: Date): Promise<void> {
    await tx.query('insert into email_notice_log (workspace_id, recipient, created_at) values ($1, $2, $3)', [ws, recipient, at]);
  },

  /** Serializes notice decisions within a workspace, so two concurrent jobs cannot both pass a throttle. */
  async lockNotices(tx: Queryable, ws: string): Promise<void> {
    await tx.query(`select pg_advisory_xact_lock(hashtext('email-notices:' || $1::text))`, [ws]);
  },
};
