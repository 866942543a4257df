import type { Task } from 'graphile-worker';
import nodemailer, { type SendMailOptions } from 'nodemailer';
import type { Queryable } from '../../../db/pool.js';
import { withWorkspace } from '../../../db/tenancy.js';
import { defineSubscriber, type Subscriber } from '../../../events/subscribers.js';
import { enqueue } from '../../../jobs/queue.js';
import type { PinnedHost } from '../../../lib/outbound/outbound.guard.js';
import { contentsOf, filesOf, MESSAGE_OWNER } from '../../attachments/attachments.service.js';
import type { Deps } from '../../context.js';
import { type ChannelConversationRow, findConversationForChannel, updateMessageChannelMetadata } from '../../conversations/conversations.channels.js';
import { inboxForChannel } from '../../inboxes/inboxes.service.js';
import { DELIVERY_REASONS, queueDelivery } from '../channels.outbound.js';
import { ChannelSendError, type ChannelDefinition } from '../channels.registry.js';
import { canonicalAddress, headerText } from './email.addresses.js';
import type { EmailInboxSettings, SmtpSettings } from './email.channel.js';
import { emailRepository as repo, type OutboundRow } from './email.repository.js';

/**
 * Outbound email: the email adapter behind the channel core's one outbound job
 * (channels.outbound.ts). An agent's reply in an email conversation is queued by the core; the
 * adapter's `queue` step fixes its Message-ID (`<message id>@<inbox domain>`) before the first
 * attempt, so a resend after a crash is recognisably the same email (SECURITY L2), checks the
 * recipients (E14) and keeps the email_messages row that threads later replies; `prepare` builds
 * the mail from committed rows; `send` hands it to the inbox's SMTP server with nodemailer through
 * the outbound guard's pinned address (M4). The delivery status is the core's (metadata.delivery,
 * message.delivery_changed). Auto-acknowledgements are not conversation messages, so they keep
 * their own `email.send` job (docs/ARCHITECTURE.md says why).
 */
export const SEND_TASK = 'email.send';
export const MAX_SEND_ATTEMPTS = 8;

/** What sending email needs beyond the server's `Deps`: timeouts and notice throttles (module settings). */
export interface EmailSendOptions {
  /** Sending timeouts (tests make them short). */
  smtpTimeoutMs?: number;
  /** Throttles of automatic notices (module settings; tests lower them). */
  noticeLimits?: NoticeLimits;
}

/** The one `Deps` shape (the part sending uses: its outbound guard pins the inbox's SMTP host, SECURITY M4) plus the send options. */
export type OutboundDeps = Pick<Deps, 'pool' | 'clock' | 'log' | 'outbound' | 'channels'> & EmailSendOptions;

export interface NoticeLimits {
  perRecipientPerDay: number;
  perWorkspacePerHour: number;
}

/** Notices (auto-acknowledgements): per recipient and per workspace (SECURITY E11, E12). */
export const defaultNoticeLimits: NoticeLimits = { perRecipientPerDay: 3, perWorkspacePerHour: 500 };

export class SendRefused extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1);
}

export function replyAddress(settings: EmailInboxSettings, token: string | undefined): string {
  const from = settings.addresses[0];
  if (!token) return from;
  const at = from.lastIndexOf('@');
  return `${from.slice(0, at)}+${token}${from.slice(at)}`;
}

/** Plain recipients only; anything a mail system could read two ways is refused (E14). */
export function checkRecipients(addresses: string[]): string[] {
  return addresses.map((a) => {
    const c = canonicalAddress(a);
    if (!c || c !== a.trim().toLowerCase()) throw new SendRefused('email.ambiguous_recipient', `refused an ambiguous recipient address`);
    return c;
  });
}

/** The Message-ID of a reply, fixed before its first attempt: the same on every resend (SECURITY L2). */
export function replyMessageId(messageId: string, settings: EmailInboxSettings): string {
  return `${messageId}@${domainOf(settings.addresses[0])}`;
}

/** What `prepare` hands `send`: the whole mail, built from committed rows, and where it goes. */
interface PreparedMail {
  smtp: SmtpSettings | null;
  rfcMessageId: string;
  mail: SendMailOptions;
}

/**
 * The email adapter's part of the outbound job. `smtpTimeoutMs` and `retryBaseMs` are module
 * settings (tests make them short), read when sending.
 */
export function emailOutbound(opts: () => { smtpTimeoutMs: number; retryBaseMs: number }): NonNullable<ChannelDefinition['outbound']> {
  return {
    // Read when a retry is scheduled, like smtpTimeoutMs (a module setting).
    get retry() {
      return { maxAttempts: MAX_SEND_ATTEMPTS, baseDelayMs: opts().retryBaseMs };
    },
    // Refused in `queue` (the recipients are fixed there for every attempt): a retry sends nowhere.
    notRetryable: ['email.no_recipient', 'email.ambiguous_recipient', 'email.invalid_recipient'],

    async queue(tx, message, ctx) {
      const ws = ctx.workspaceId;
      const settings = ctx.settings as unknown as EmailInboxSettings;
      const conversation = await findConversationForChannel(tx, ws, message.conversationId);
      if (!conversation) throw new ChannelSendError('email.no_recipient', true);
      const at = ctx.context.clock.now();
      const cc = ((message.metadata as { cc?: { address: string }[] }).cc ?? []).map((c) => c.address);
      const rfcMessageId = replyMessageId(message.messageId, settings);
      let recipients: string[] = [];
      let refused: string | null = null;
      // A conversation an agent started (conversations.outbound.service.ts) names the customer's
      // address it was started to; set only by that service, which checked the customer holds it.
      // Later replies there go to the same address, while the customer still holds it.
      const chosen = (message.metadata as { recipient?: unknown }).recipient;
      const opening = typeof chosen === 'string' ? undefined : await repo.openingRecipient(tx, ws, conversation.id);
      const stillTheirs = opening && message.customer.identities.some((i) => i.kind === 'email' && i.value === opening);
      const to = typeof chosen === 'string' ? chosen : stillTheirs ? opening : conversation.customer_email;
      try {
        if (!to) throw new SendRefused('email.no_recipient', 'the customer has no email address');
        recipients = checkRecipients([to, ...cc]);
      } catch (error) {
        refused = error instanceof SendRefused ? error.code : 'email.invalid_recipient';
      }
      const inserted = await repo.insertOutbound(tx, {
        workspaceId: ws,
        inboxId: ctx.inboxId,
        conversationId: conversation.id,
        messageId: message.messageId,
        kind: 'reply',
        rfcMessageId,
        recipients,
        deliveryStatus: null,
        at,
      });
      // A row already there came from an older version's own job. Still queued: its delivery is the
      // core's now. Already sent or failed by that job: the core records that, and sends nothing.
      if (!inserted) {
        const older = await repo.outboundOfMessage(tx, ws, message.messageId);
        if (older?.delivery_status === 'sent' || older?.delivery_status === 'failed') {
          return {
            providerId: older.rfc_message_id,
            settled: { status: older.delivery_status, reason: older.delivery_status === 'failed' ? (older.delivery_error ?? DELIVERY_REASONS.sendFailed) : null },
          };
        }
        if (older?.delivery_status === 'queued') await repo.setDelivery(tx, ws, older.id, null, null);
      }
      const uploads = refused ? [] : await filesOf(tx, ws, { kind: MESSAGE_OWNER, id: message.messageId });
      await updateMessageChannelMetadata(tx, ctx.context, {
        conversationId: conversation.id,
        messageId: message.messageId,
        key: 'email',
        at,
        patch: refused
          ? { messageId: rfcMessageId }
          : {
              messageId: rfcMessageId,
              from: { name: '', address: settings.addresses[0] },
              to: [{ name: conversation.customer_name ?? '', address: recipients[0] }],
              cc: recipients.slice(1).map((address) => ({ name: '', address })),
              subject: typeof chosen === 'string' ? firstSubject(conversation.subject) : replySubject(conversation.subject),
              attachments: uploads.map((u) => ({ ...u, inline: false })),
            },
      });
      // Refused before any attempt: the core fails the delivery with the code, and nothing is sent.
      if (refused) throw new ChannelSendError(refused, true);
      return { providerId: rfcMessageId };
    },

    async prepare(tx, message, ctx): Promise<PreparedMail> {
      const ws = ctx.workspaceId;
      const settings = ctx.settings as unknown as EmailInboxSettings;
      const row = await repo.outboundOfMessage(tx, ws, message.messageId);
      const conversation = await findConversationForChannel(tx, ws, message.conversationId);
      if (!row || !conversation) throw new ChannelSendError('email.no_recipient', true);
      const agent = headerText(message.author.name ?? '', 100);
      const team = headerText(settings.fromName ?? '', 100);
      // The files the agent attached: bytes from the database, never a path or a URL (nodemailer's
      // file and URL access is off as well); names are encoded by nodemailer (RFC 2231).
      const attachments = (await contentsOf(tx, ws, { kind: MESSAGE_OWNER, id: message.messageId })).map((u) => ({
        filename: headerText(u.name, 255),
        content: u.content,
        contentType: u.contentType,
        contentDisposition: 'attachment' as const,
      }));
      const opening = typeof (message.metadata as { recipient?: unknown }).recipient === 'string';
      return {
        smtp: settings.smtp,
        rfcMessageId: row.rfc_message_id,
        mail: {
          ...(await mailBase(tx, ws, settings, conversation, row)),
          from: { name: agent && team ? `${agent} (${team})` : agent || team, address: settings.addresses[0] },
          // The mail that opens a conversation an agent started is not a reply: no "Re:".
          subject: opening ? firstSubject(conversation.subject) : replySubject(conversation.subject),
          text: message.body,
          html: message.html ?? undefined,
          ...(attachments.length ? { attachments } : {}),
        },
      };
    },

    async send(_message, ctx) {
      const p = ctx.prepared as PreparedMail;
      await deliver(p.smtp, p.mail, { ...ctx, smtpTimeoutMs: opts().smtpTimeoutMs, ref: { workspaceId: ctx.workspaceId, rfcMessageId: p.rfcMessageId } });
      return { providerId: p.rfcMessageId, status: 'sent' };
    },
  };
}

/** Headers every mail of a conversation carries: its Message-ID, threading, the token Reply-To, recipients. */
async function mailBase(tx: Queryable, ws: string, settings: EmailInboxSettings, conversation: ChannelConversationRow, row: OutboundRow): Promise<SendMailOptions> {
  const token = await repo.replyToken(tx, ws, conversation.id);
  const thread = (await repo.threadMessageIds(tx, ws, conversation.id)).filter((t) => t.rfc_message_id !== row.rfc_message_id);
  const lastInbound = [...thread].reverse().find((t) => t.direction === 'inbound');
  return {
    messageId: `<${row.rfc_message_id}>`,
    inReplyTo: lastInbound ? `<${lastInbound.rfc_message_id}>` : undefined,
    references: thread.map((t) => `<${t.rfc_message_id}>`),
    replyTo: { name: headerText(settings.fromName ?? '', 100), address: replyAddress(settings, token) },
    to: { name: headerText(conversation.customer_name ?? '', 100), address: row.recipients[0] },
    cc: row.recipients.slice(1),
    envelope: { from: settings.addresses[0], to: row.recipients },
    disableFileAccess: true,
    disableUrlAccess: true,
  };
}

/** The subject of the mail that starts a conversation an agent opened: not a reply, so no "Re:". */
export function firstSubject(subject: string | null): string {
  return headerText(subject ?? '', 300) || 'A message from us';
}

export function replySubject(subject: string | null): string {
  const s = headerText(subject ?? '', 300);
  if (!s) return 'Re: your message';
  return /^(re|aw|sv|antw):/i.test(s) ? s : `Re: ${s}`;
}

/**
 * What a failed delivery shows to agents: a stable code, never the words of the socket or the
 * server. "Refused", "timed out", "bad certificate" and "that address is not allowed" all read
 * the same, so the delivery status cannot be used to scan which hosts and ports answer (SECURITY
 * M4); the details go to the log, for the operator.
 */
export const DELIVERY_ERRORS = {
  /** No SMTP conversation: refused address, unknown name, refused or timed-out connection, TLS failure. */
  connectFailed: 'email.connect_failed',
  /** The mail server answered, and refused the message (or the sign-in). */
  rejected: 'email.delivery_rejected',
} as const;

/** Connects to the pinned, checked address; TLS still verifies the certificate against the configured name. */
export function transportFor(smtp: SmtpSettings, pinned: PinnedHost, timeoutMs: number) {
  return nodemailer.createTransport({
    host: pinned.address,
    port: smtp.port,
    ...(pinned.servername ? { tls: { servername: pinned.servername } } : {}),
    secure: smtp.tls === 'implicit',
    requireTLS: smtp.tls === 'starttls',
    ignoreTLS: smtp.tls === 'none',
    auth: smtp.user ? { user: smtp.user, pass: smtp.password ?? '' } : undefined,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs * 2,
    disableFileAccess: true,
    disableUrlAccess: true,
  });
}

/**
 * One SMTP delivery through the pinned, checked address. Throws ChannelSendError with a stable code
 * (DELIVERY_ERRORS): permanent for a refused address, a 5xx or a refused envelope; retryable for an
 * unknown name, a dead server or a 4xx. The socket's and the server's words go to the log only.
 */
async function deliver(smtp: SmtpSettings | null, mail: SendMailOptions, d: Pick<Deps, 'outbound' | 'log'> & { smtpTimeoutMs: number; attempt?: number; ref: Record<string, unknown> }): Promise<void> {
  if (!smtp) throw new ChannelSendError('email.no_smtp_settings', true);
  let transport: ReturnType<typeof transportFor> | null = null;
  try {
    // Resolved and checked on every attempt; nodemailer gets the IP, so it never resolves again.
    const pinned = await d.outbound.pin(smtp.host);
    transport = transportFor(smtp, pinned, d.smtpTimeoutMs);
    await transport.sendMail(mail);
  } catch (error) {
    const e = error as { responseCode?: number; code?: string; message: string };
    // A refused address stays refused; an unknown name, a dead server or a 4xx may pass later.
    const permanent = e.code === 'outbound.forbidden_address' || e.code === 'outbound.invalid_host' || (e.responseCode !== undefined ? e.responseCode >= 500 : e.code === 'EENVELOPE');
    const shown = e.responseCode !== undefined || e.code === 'EENVELOPE' ? DELIVERY_ERRORS.rejected : DELIVERY_ERRORS.connectFailed;
    d.log.warn({ ...d.ref, host: smtp.host, port: smtp.port, responseCode: e.responseCode, code: e.code, err: e.message, attempt: d.attempt, permanent }, 'email: delivery attempt failed');
    throw new ChannelSendError(shown, permanent);
  } finally {
    transport?.close();
  }
}

/** An email inbox of the workspace (from the inboxes service, in the caller's transaction); undefined for another channel's. */
async function emailInbox(tx: Queryable, ws: string, id: string) {
  const inbox = await inboxForChannel(tx, ws, id);
  return inbox?.channel === 'email' ? inbox : undefined;
}

/**
 * The `email.send` job. New versions queue it only for auto-acknowledgements (not conversation
 * messages, so the channel core's job, keyed by message, cannot carry them). A reply's `email.send`
 * job may still sit in the queue from an older version when the server is upgraded: it is forwarded
 * to the one outbound job (queueDelivery, idempotent), so an upgrade loses no reply and sends none twice.
 */
export function sendTask(d: OutboundDeps & { smtpTimeoutMs: number }): Task {
  return async (payload, helpers) => {
    const { workspaceId: ws, emailMessageId } = payload as { workspaceId: string; emailMessageId: string };
    const ack = await withWorkspace(d.pool, ws, async (tx) => {
      const row = await repo.outbound(tx, ws, emailMessageId);
      if (!row || row.delivery_status !== 'queued' || !row.conversation_id) return null;
      if (row.kind !== 'auto_ack') {
        if (row.message_id) await queueDelivery(tx, d, ws, row.conversation_id, row.message_id);
        return null;
      }
      const inbox = await emailInbox(tx, ws, row.inbox_id);
      const conversation = await findConversationForChannel(tx, ws, row.conversation_id);
      if (!inbox || !conversation) return null;
      const settings = inbox.settings as unknown as EmailInboxSettings;
      const ackSettings = settings.autoAck;
      if (!ackSettings) return null;
      const fill = (t: string) =>
        t
          .replaceAll('{{number}}', String(conversation.number))
          .replaceAll('{{subject}}', conversation.subject ?? '')
          .replaceAll('{{name}}', conversation.customer_name ?? '');
      const mail: SendMailOptions = {
        ...(await mailBase(tx, ws, settings, conversation, row)),
        from: { name: headerText(settings.fromName ?? '', 100), address: settings.addresses[0] },
        subject: headerText(fill(ackSettings.subject), 300),
        text: fill(ackSettings.body),
        // RFC 3834 §5: mark it automatic, so other robots do not answer it.
        headers: { 'Auto-Submitted': 'auto-replied', 'X-Auto-Response-Suppress': 'All' },
      };
      return { smtp: settings.smtp, mail };
    });
    if (!ack) return;
    const record = (status: 'sent' | 'queued' | 'failed', error: string | null) => withWorkspace(d.pool, ws, (tx) => repo.setDelivery(tx, ws, emailMessageId, status, error));
    try {
      await deliver(ack.smtp, ack.mail, { ...d, attempt: helpers.job.attempts, ref: { workspaceId: ws, emailMessageId } });
      await record('sent', null);
    } catch (error) {
      if (!(error instanceof ChannelSendError)) throw error;
      if (error.permanent || helpers.job.attempts >= helpers.job.max_attempts) {
        await record('failed', error.reason);
        return;
      }
      await record('queued', error.reason);
      throw new Error(`delivery attempt failed (${error.reason})`);
    }
  };
}

/**
 * Replies used to reach email through its own `email.outbound` subscriber. It takes no new event
 * (`accepts` is false: the core's `channels.outbound` queues every reply now); it is kept so a
 * delivery job an older version enqueued for it before an upgrade still queues its reply.
 */
export function legacyOutboundSubscriber(d: OutboundDeps): Subscriber<'message.created'> {
  return defineSubscriber({
    name: 'email.outbound',
    types: ['message.created'],
    accepts: () => false,
    async handle(event) {
      if (event.data.messageType !== 'outbound' || !event.conversationId) return;
      await withWorkspace(d.pool, event.workspaceId, (tx) => queueDelivery(tx, d, event.workspaceId, event.conversationId!, event.data.messageId));
    },
  });
}

/**
 * The auto-acknowledgement job: decided at ingest (never for automatic or bulk mail), throttled
 * here per recipient and per workspace, then sent like a reply but marked Auto-Submitted.
 */
export function autoAckTask(d: OutboundDeps): Task {
  return async (payload) => {
    const { workspaceId: ws, conversationId } = payload as { workspaceId: string; conversationId: string; emailMessageId: string };
    const queued = await withWorkspace(d.pool, ws, async (tx) => {
      const conversation = await findConversationForChannel(tx, ws, conversationId);
      if (!conversation?.customer_email) return null;
      const inbox = await emailInbox(tx, ws, conversation.inbox_id);
      const settings = inbox?.settings as unknown as EmailInboxSettings | undefined;
      if (!inbox || !settings?.autoAck?.enabled) return null;
      const recipient = canonicalAddress(conversation.customer_email);
      if (!recipient) return null;
      const at = d.clock.now();
      await repo.lockNotices(tx, ws);
      const day = await repo.noticesSince(tx, ws, recipient, new Date(at.getTime() - 24 * 3600_000));
      const hour = await repo.noticesSince(tx, ws, recipient, new Date(at.getTime() - 3600_000));
      const limits = d.noticeLimits ?? defaultNoticeLimits;
      if (day.recipient >= limits.perRecipientPerDay || hour.workspace >= limits.perWorkspacePerHour) {
        d.log.info({ workspaceId: ws }, 'auto-acknowledgement throttled');
        return null;
      }
      const id = await repo.insertOutbound(tx, {
        workspaceId: ws,
        inboxId: inbox.id,
        conversationId,
        messageId: null,
        kind: 'auto_ack',
        rfcMessageId: `ack-${conversationId}@${domainOf(settings.addresses[0])}`,
        recipients: [recipient],
        deliveryStatus: 'queued',
        at,
      });
      if (!id) return null;
      await repo.logNotice(tx, ws, recipient, at);
      await enqueue(tx, SEND_TASK, { workspaceId: ws, emailMessageId: id }, { jobKey: `email.send:${id}`, maxAttempts: MAX_SEND_ATTEMPTS });
      return id;
    });
    if (queued) d.log.debug({ workspaceId: ws }, 'auto-acknowledgement queued');
  };
}
