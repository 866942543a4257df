import type { Task } from 'graphile-worker';
import { contentsOf, filesOf, MESSAGE_OWNER } from '../../attachments/attachments.service.js';
import nodemailer, { type SendMailOptions } from 'nodemailer';
import { withWorkspace } from '../../../db/tenancy.js';
import { defineSubscriber, type Subscriber } from '../../../events/subscribers.js';
import { enqueue } from '../../../jobs/queue.js';
import type { PinnedHost } from '../../../lib/outbound/outbound.guard.js';
import type { Deps, WorkspaceContext } from '../../context.js';
import { findConversationForChannel, findMessageForChannel, updateMessageChannelMetadata } from '../../conversations/conversations.channels.js';
import { canonicalAddress, headerText } from './email.addresses.js';
import type { EmailInboxSettings, SmtpSettings } from './email.channel.js';
import { emailRepository as repo } from './email.repository.js';

/**
 * Outbound email. An agent's reply in an email conversation becomes a row in email_messages with a
 * Message-ID fixed before the first attempt (so a resend after a crash is recognisably the same
 * email, SECURITY L2), then a job sends it through the inbox's SMTP server with nodemailer,
 * retrying with backoff; the delivery status lands on the message's metadata.
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
export type OutboundDeps = Pick<Deps, 'pool' | 'clock' | 'log' | 'outbound'> & EmailSendOptions;

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

function deps(d: OutboundDeps, workspaceId: string): WorkspaceContext {
  return { pool: d.pool, clock: d.clock, workspaceId, actor: { type: 'system', id: null } };
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

/** The subscriber: an outbound message in an email conversation is queued for sending. */
export function outboundSubscriber(d: OutboundDeps): Subscriber<'message.created'> {
  return defineSubscriber({
    name: 'email.outbound',
    types: ['message.created'],
    // Only agents' replies can become email; inbound messages and notes never make a job.
    accepts: (event) => event.data.messageType === 'outbound',
    async handle(event) {
      if (event.data.messageType !== 'outbound' || !event.conversationId) return;
      const ws = event.workspaceId;
      const messageId = event.data.messageId;
      await withWorkspace(d.pool, ws, async (tx) => {
        const conversation = await findConversationForChannel(tx, ws, event.conversationId!);
        if (!conversation || conversation.channel !== 'email') return;
        const inbox = await repo.inbox(tx, ws, conversation.inbox_id);
        const message = await findMessageForChannel(tx, ws, messageId);
        if (!inbox || !message) return;
        const settings = inbox.settings as unknown as EmailInboxSettings;
        const at = d.clock.now();
        const email = (message.metadata.email ?? {}) as { cc?: { address: string }[] };
        const uploads = await filesOf(tx, ws, { kind: MESSAGE_OWNER, id: messageId });
        const wanted = [conversation.customer_email ?? '', ...(email.cc ?? []).map((c) => c.address)];
        const rfcMessageId = `${messageId}@${domainOf(settings.addresses[0])}`;
        let recipients: string[] = [];
        let refused: string | null = null;
        try {
          if (!conversation.customer_email) throw new SendRefused('email.no_recipient', 'the customer has no email address');
          recipients = checkRecipients(wanted);
        } catch (error) {
          refused = error instanceof SendRefused ? error.code : 'email.invalid_recipient';
        }
        const id = await repo.insertOutbound(tx, {
          workspaceId: ws,
          inboxId: inbox.id,
          conversationId: conversation.id,
          messageId,
          kind: 'reply',
          rfcMessageId,
          recipients,
          at,
        });
        if (!id) return; // already queued by an earlier delivery of this event
        if (refused) {
          await repo.setDelivery(tx, ws, id, 'failed', refused);
          await updateMessageChannelMetadata(tx, deps(d, ws), {
            conversationId: conversation.id,
            messageId,
            key: 'email',
            at,
            patch: { messageId: rfcMessageId, delivery: { status: 'failed', error: refused, at: at.toISOString() } },
          });
          return;
        }
        await updateMessageChannelMetadata(tx, deps(d, ws), {
          conversationId: conversation.id,
          messageId,
          key: 'email',
          at,
          patch: {
            messageId: rfcMessageId,
            from: { name: '', address: settings.addresses[0] },
            to: [{ name: conversation.customer_name ?? '', address: recipients[0] }],
            cc: recipients.slice(1).map((address) => ({ name: '', address })),
            subject: replySubject(conversation.subject),
            attachments: uploads.map((u) => ({ ...u, inline: false })),
            delivery: { status: 'queued', at: at.toISOString() },
          },
        });
        await enqueue(tx, SEND_TASK, { workspaceId: ws, emailMessageId: id }, { jobKey: `email.send:${id}`, maxAttempts: MAX_SEND_ATTEMPTS });
      });
    },
  });
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
function transportFor(smtp: SmtpSettings, pinned: PinnedHost, timeoutMs: number) {
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

interface Prepared {
  settings: EmailInboxSettings;
  conversationId: string;
  messageId: string | null;
  mail: SendMailOptions;
}

/** Builds the email from committed rows: the same input gives the same email on every attempt. */
async function prepare(d: OutboundDeps, ws: string, emailMessageId: string): Promise<Prepared | null> {
  return withWorkspace(d.pool, ws, async (tx) => {
    const row = await repo.outbound(tx, ws, emailMessageId);
    if (!row || row.delivery_status !== 'queued' || !row.conversation_id) return null;
    const inbox = await repo.inbox(tx, ws, row.inbox_id);
    const conversation = await findConversationForChannel(tx, ws, row.conversation_id);
    if (!inbox || !conversation) return null;
    const settings = inbox.settings as unknown as EmailInboxSettings;
    const token = await repo.replyToken(tx, ws, conversation.id);
    const thread = (await repo.threadMessageIds(tx, ws, conversation.id)).filter((t) => t.rfc_message_id !== row.rfc_message_id);
    const lastInbound = [...thread].reverse().find((t) => t.direction === 'inbound');
    const fromAddress = settings.addresses[0];
    const base = {
      messageId: `<${row.rfc_message_id}>`,
      inReplyTo: lastInbound ? `<${lastInbound.rfc_message_id}>` : undefined,
      references: thread.map((t) => `<${t.rfc_message_id}>`),
      replyTo: { name: headerText(settings.fromName ?? '', 100), address: replyAddress(settings, token) },
      to: { name: headerText(conversation.customer_name ?? '', 100), address: row.recipients[0] },
      cc: row.recipients.slice(1),
      envelope: { from: fromAddress, to: row.recipients },
      disableFileAccess: true,
      disableUrlAccess: true,
    };
    if (row.kind === 'auto_ack') {
      const ack = settings.autoAck!;
      const fill = (t: string) =>
        t
          .replaceAll('{{number}}', String(conversation.number))
          .replaceAll('{{subject}}', conversation.subject ?? '')
          .replaceAll('{{name}}', conversation.customer_name ?? '');
      return {
        settings,
        conversationId: conversation.id,
        messageId: null,
        mail: {
          ...base,
          from: { name: headerText(settings.fromName ?? '', 100), address: fromAddress },
          subject: headerText(fill(ack.subject), 300),
          text: fill(ack.body),
          // RFC 3834 §5: mark it automatic, so other robots do not answer it.
          headers: { 'Auto-Submitted': 'auto-replied', 'X-Auto-Response-Suppress': 'All' },
        },
      };
    }
    const message = row.message_id ? await findMessageForChannel(tx, ws, row.message_id) : undefined;
    if (!message) return null;
    const agent = headerText(message.author_name ?? '', 100);
    const team = headerText(settings.fromName ?? '', 100);
    // The files the agent attached: bytes from the database, never a path or a URL (nodemailer's
    // file and URL access is off as well); names are encoded by nodemailer (RFC 2231).
    const attachments = (await contentsOf(tx, ws, { kind: MESSAGE_OWNER, id: message.id })).map((u) => ({
      filename: headerText(u.name, 255),
      content: u.content,
      contentType: u.contentType,
      contentDisposition: 'attachment' as const,
    }));
    return {
      settings,
      conversationId: conversation.id,
      messageId: message.id,
      mail: {
        ...base,
        from: { name: agent && team ? `${agent} (${team})` : agent || team, address: fromAddress },
        subject: replySubject(conversation.subject),
        text: message.body_text,
        html: message.body_html ?? undefined,
        ...(attachments.length ? { attachments } : {}),
      },
    };
  });
}

async function record(d: OutboundDeps, ws: string, emailMessageId: string, p: Prepared, status: 'queued' | 'sent' | 'failed', error: string | null) {
  await withWorkspace(d.pool, ws, async (tx) => {
    await repo.setDelivery(tx, ws, emailMessageId, status, error);
    if (p.messageId) {
      const at = d.clock.now();
      await updateMessageChannelMetadata(tx, deps(d, ws), {
        conversationId: p.conversationId,
        messageId: p.messageId,
        key: 'email',
        at,
        patch: { delivery: { status, ...(error ? { error } : {}), at: at.toISOString() } },
      });
    }
  });
}

/** The send job. Permanent refusals (5xx) fail at once; anything else is retried with backoff. */
export function sendTask(d: OutboundDeps): Task {
  return async (payload, helpers) => {
    const { workspaceId: ws, emailMessageId } = payload as { workspaceId: string; emailMessageId: string };
    const p = await prepare(d, ws, emailMessageId);
    if (!p) return;
    if (!p.settings.smtp) {
      await record(d, ws, emailMessageId, p, 'failed', 'email.no_smtp_settings');
      return;
    }
    const smtp = p.settings.smtp;
    let transport: ReturnType<typeof transportFor> | null = null;
    try {
      // Resolved and checked on every attempt; nodemailer gets the IP, so it never resolves again.
      const pinned = await d.outbound.pin(smtp.host);
      transport = transportFor(smtp, pinned, d.smtpTimeoutMs ?? 30_000);
      await transport.sendMail(p.mail);
      await record(d, ws, emailMessageId, p, 'sent', null);
    } catch (error) {
      const e = error as { responseCode?: number; code?: string; message: string };
      // A refused address stays refused; an unknown name, a dead server or a 4xx may pass later.
      const permanent = e.code === 'outbound.forbidden_address' || e.code === 'outbound.invalid_host' || (e.responseCode !== undefined ? e.responseCode >= 500 : e.code === 'EENVELOPE');
      const shown = e.responseCode !== undefined || e.code === 'EENVELOPE' ? DELIVERY_ERRORS.rejected : DELIVERY_ERRORS.connectFailed;
      const lastTry = helpers.job.attempts >= helpers.job.max_attempts;
      d.log.warn(
        { workspaceId: ws, emailMessageId, host: smtp.host, port: smtp.port, responseCode: e.responseCode, code: e.code, err: e.message, attempt: helpers.job.attempts, permanent },
        'email: delivery attempt failed',
      );
      if (permanent || lastTry) {
        await record(d, ws, emailMessageId, p, 'failed', shown);
        return;
      }
      await record(d, ws, emailMessageId, p, 'queued', shown);
      throw new Error(`delivery attempt failed (${shown})`);
    } finally {
      transport?.close();
    }
  };
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
      const inbox = await repo.inbox(tx, ws, conversation.inbox_id);
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
