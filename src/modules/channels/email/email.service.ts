import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Pool, Queryable } from '../../../db/pool.js';
import { inWorkspaceTx, withSystem, withWorkspace } from '../../../db/tenancy.js';
import { enqueue } from '../../../jobs/queue.js';
import { type Deps, inTx, principalOf, type WorkspaceContext } from '../../context.js';
import { existingConversationIds, findConversationForChannel, ingestInbound } from '../../conversations/conversations.channels.js';
import { IdentityRace, findOrCreateCustomer } from '../../customers/customers.service.js';
import { appendMessage, checkReplyCollision, type ReplyGuardInput } from '../../conversations/conversations.service.js';
import { listMembers } from '../../workspaces/workspaces.service.js';
import { macroActionsOf, runMacroActions } from '../../macros/macros.service.js';
import type { AttachmentOwnerKind } from '../../attachments/attachments.owners.js';
import { attachUploads, contentsOf, MESSAGE_OWNER, storeFiles, transferFiles } from '../../attachments/attachments.service.js';
import type { AttachmentLimits } from '../../attachments/attachments.settings.js';
import { AppError } from '../../../lib/errors.js';
import { canonicalAddress, isPublicMailDomain, splitPlusAddress, storedAddress } from './email.addresses.js';
import { checkByMailServer, uncheckedImapMail, type SenderCheck, type SenderChecker, type SmtpClient } from './email.authentication.js';
import { emailErrors } from './email.errors.js';
import type { EmailInboxSettings } from './email.channel.js';
import type { EmailParser } from './email.parser.js';
import { type AuthResult, type EmailAddress, type ParsedEmail, unparsedEmail } from './email.parser.types.js';
import { emailRepository as repo } from './email.repository.js';
import { findThread, type ThreadMatch } from './email.threading.js';

export const AUTOACK_TASK = 'email.autoack';

/** What email ingestion needs beyond the server's `Deps`: its parser and how it checks senders. */
export interface EmailIngestOptions {
  parser: EmailParser;
  /** EMAIL_AUTHSERV_ID: whose Authentication-Results to believe (email.authentication.ts). */
  authservId?: string | null;
  /** How Rapport checks a sender itself when no authserv-id is set (a SenderChecker). */
  senderChecker?: Pick<SenderChecker, 'check'>;
}

/** The one `Deps` shape (the part ingestion uses) plus the email module's ingestion options. */
export type EmailDeps = Pick<Deps, 'pool' | 'clock' | 'log'> & EmailIngestOptions;

export interface InboxTarget {
  workspaceId: string;
  inboxId: string;
  settings: EmailInboxSettings;
}

/** The metadata an email message carries in messages.metadata.email (read by the agent app). */
export interface EmailMessageMetadata {
  messageId: string | null;
  from: EmailAddress | null;
  to: EmailAddress[];
  cc: EmailAddress[];
  replyTo?: EmailAddress[];
  subject: string | null;
  date: string | null;
  /** `contentId`: the part's Content-ID without <>, which the HTML names as `cid:` (an inline image); inbound mail only, and only since it was kept. */
  attachments: { id: string; name: string; size: number; contentType: string; inline: boolean; contentId?: string }[];
  parse: 'parsed' | 'unparsed';
  parseError?: string;
  quoted?: string;
  unverified?: boolean;
  /** Who checked the sender and what it showed, in plain words (issue #8 M5). */
  authentication?: SenderCheck;
  forwardedBy?: EmailAddress;
  participant?: boolean;
  threadedBy?: ThreadMatch['by'];
  /** Replies sent by older versions only: a reply's delivery is the channel core's metadata.delivery now. */
  delivery?: { status: 'queued' | 'sent' | 'failed'; error?: string; at: string };
  rawAvailable: boolean;
}

/**
 * Finds the email inbox an address delivers to (system context: routing is across workspaces by
 * design): the exact address, then the base of a plus address, then a catch-all domain. Only
 * verified claims route: mail to a pending one is answered as for an unknown address.
 */
export async function routeRecipient(pool: Pool, address: string): Promise<InboxTarget | null> {
  const canonical = storedAddress(address);
  if (!canonical) return null;
  const { base } = splitPlusAddress(canonical);
  // A public mail domain is never a catch-all (SECURITY H2), even one stored before that rule.
  const domain = canonical.slice(canonical.lastIndexOf('@') + 1);
  return withSystem(pool, async (tx) => {
    const row =
      (await repo.inboxByAddress(tx, canonical)) ??
      (base !== canonical ? await repo.inboxByAddress(tx, base) : undefined) ??
      (isPublicMailDomain(domain) ? undefined : await repo.inboxByCatchAll(tx, domain));
    return row ? { workspaceId: row.workspace_id, inboxId: row.id, settings: row.settings as unknown as EmailInboxSettings } : null;
  });
}

export function sha256(data: Uint8Array): Buffer {
  return createHash('sha256').update(data).digest();
}

/** Where the header section ends (the first empty line). */
export function bodyOffset(raw: Buffer): number {
  const crlf = raw.indexOf('\r\n\r\n');
  const lf = raw.indexOf('\n\n');
  if (crlf < 0 && lf < 0) return raw.length;
  if (crlf < 0) return lf + 2;
  if (lf < 0) return crlf + 4;
  return crlf < lf ? crlf + 4 : lf + 2;
}

/**
 * The deduplication key of SECURITY E2: the Message-ID and a hash of the body section, so a copy
 * that a relay stamped with extra trace headers is still the same message. A message without a
 * Message-ID is keyed by its whole source.
 */
export function dedupKey(raw: Buffer, messageId: string | null): { rfcMessageId: string; bodyHash: Buffer } {
  if (!messageId) return { rfcMessageId: '', bodyHash: sha256(raw) };
  return { rfcMessageId: messageId, bodyHash: sha256(raw.subarray(bodyOffset(raw))) };
}

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';
/** 130 random bits in 26 base32 characters: the secret of a conversation's reply address. */
export function newReplyToken(): string {
  const bytes = randomBytes(17);
  let bits = 0;
  let value = 0;
  let out = '';
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out.slice(0, 26);
}

/** RFC 3834 §2 and common practice: mail that must never get an automatic answer. */
export function isAutomatic(parsed: ParsedEmail, envelopeFrom: string | null): boolean {
  if (envelopeFrom === '') return true;
  const a = parsed.auto;
  if (a.autoSubmitted && a.autoSubmitted !== 'no') return true;
  if (a.precedence && /^(bulk|list|junk|auto_reply)$/.test(a.precedence)) return true;
  if (a.listId || a.autoReplyHeader) return true;
  const from = parsed.from?.address?.toLowerCase() ?? '';
  return /^(mailer-daemon|postmaster|no-?reply|do-?not-?reply|bounces?)([+@.-])/.test(from);
}

/**
 * Who the sender is, as far as anyone can tell (email.authentication.ts): the verdict of the mail
 * server named by EMAIL_AUTHSERV_ID when one is set; otherwise Rapport's own SPF, DKIM and DMARC
 * check of what the SMTP session saw; IMAP mail without EMAIL_AUTHSERV_ID cannot be checked. Runs
 * beside the parse, each in its own worker thread.
 */
export async function senderCheckOf(deps: EmailDeps, input: { raw: Buffer; client: SmtpClient | null; authResults: () => Promise<AuthResult[]> }): Promise<SenderCheck> {
  if (deps.authservId) return checkByMailServer(await input.authResults(), deps.authservId);
  if (!input.client) return uncheckedImapMail;
  if (!deps.senderChecker) return { verdict: 'unverified', by: 'none', reason: 'Sender checks are not configured on this server.' };
  return deps.senderChecker.check(input.raw, input.client);
}

/**
 * Whether a forward comes from the workspace's own people (a member, or one of its inbox addresses):
 * only then is it credited to the original sender. Anyone else who forwards something stays its
 * sender, or a stranger could open conversations in a customer's name by writing a "From:" line.
 * Read before the ingest transaction (membership belongs to the workspaces module).
 */
async function forwardedByOwnPeople(deps: EmailDeps, workspaceId: string, sender: string): Promise<boolean> {
  const { base } = splitPlusAddress(sender);
  if (await withWorkspace(deps.pool, workspaceId, (tx) => repo.isInboxAddress(tx, workspaceId, base))) return true;
  const { items } = await listMembers({ pool: deps.pool, clock: deps.clock, workspaceId, actor: { type: 'system', id: null } });
  return items.some((m) => m.email.trim().toLowerCase() === sender);
}

function senderOf(parsed: ParsedEmail, envelopeFrom: string | null): string {
  return storedAddress(parsed.from?.address) ?? storedAddress(envelopeFrom) ?? 'unknown@invalid';
}

export interface IngestInput {
  raw: Buffer;
  via: 'smtp' | 'imap';
  target: InboxTarget;
  /** MAIL FROM ('' for the null sender <>), null when unknown (IMAP). */
  envelopeFrom: string | null;
  envelopeTo: string[];
  /** Parse once for several inboxes. */
  parsed?: ParsedEmail;
  /** The SMTP client that delivered the message (null for IMAP). */
  client?: SmtpClient | null;
  /** Check the sender once for several inboxes (see senderCheckOf). */
  sender?: SenderCheck;
}

export interface IngestResult {
  status: 'stored' | 'duplicate';
  emailMessageId: string | null;
  conversationId: string | null;
  messageId: string | null;
}

/**
 * Stores one inbound email in one transaction: raw source, parse result, attachments, customer,
 * conversation (new or threaded) and message. Called before the SMTP 250 and before IMAP marks the
 * message \Seen, so an acknowledged email is always stored, and a repeated one is stored once.
 */
export async function ingestEmail(deps: EmailDeps, input: IngestInput): Promise<IngestResult> {
  let parsed = scrub(input.parsed ?? (await deps.parser.parse(input.raw)));
  const check = input.sender ?? (await senderCheckOf(deps, { raw: input.raw, client: input.client ?? null, authResults: async () => parsed.authResults }));
  const sender = senderOf(parsed, input.envelopeFrom);
  const forwardedByUs = check.verdict === 'verified' && Boolean(parsed.forwardedFrom) && (await forwardedByOwnPeople(deps, input.target.workspaceId, sender));
  for (let attempt = 1; ; attempt++) {
    try {
      return await ingestOnce(deps, input, parsed, forwardedByUs, check);
    } catch (error) {
      if (error instanceof Duplicate) return error.result;
      const code = String((error as { code?: string }).code ?? '');
      // A parse result the database will not take (SQLSTATE classes 22 and 54: bad data, limits)
      // would fail the same way on every retry: keep the raw source, unparsed, instead (E9).
      if ((code.startsWith('22') || code.startsWith('54')) && parsed.status === 'parsed' && attempt < 3) {
        deps.log.warn({ code }, 'email: parse result refused by the database; storing it unparsed');
        parsed = { ...unparsedEmail(`store_failed: ${code}`), messageId: parsed.messageId, from: parsed.from, subject: parsed.subject };
        continue;
      }
      if (!(error instanceof IdentityRace) || attempt >= 3) throw error;
    }
  }
}

/** PostgreSQL text cannot hold NUL; mail can (E9 lists it). Strips it from every string. */
function scrub<T>(value: T): T {
  if (typeof value === 'string') return value.replace(/\u0000/g, '') as T;
  if (Array.isArray(value)) return value.map(scrub) as T;
  if (value && typeof value === 'object' && !(value instanceof Uint8Array)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrub(v)])) as T;
  }
  return value;
}

/** Rolls the transaction back (nothing of a repeated delivery is kept) and carries the first copy's ids. */
class Duplicate extends Error {
  constructor(readonly result: IngestResult) {
    super('duplicate email');
  }
}

function unparsedBody(reason: string | null): string {
  return `(This email could not be read${reason ? ` (${reason.split(':')[0]})` : ''}. The original message is kept and can be downloaded.)`;
}

async function ingestOnce(deps: EmailDeps, input: IngestInput, parsed: ParsedEmail, forwardedByUs: boolean, check: SenderCheck): Promise<IngestResult> {
  const { workspaceId: ws, inboxId, settings } = input.target;
  const at = deps.clock.now();
  const raw = input.raw;
  const rawSha = sha256(raw);
  const { rfcMessageId, bodyHash } = dedupKey(raw, parsed.messageId);
  const sender = senderOf(parsed, input.envelopeFrom);
  const headerRecipients = [...parsed.to, ...parsed.cc].map((a) => storedAddress(a.address)).filter((a): a is string => Boolean(a));
  const recipients = [...new Set([...input.envelopeTo.map((a) => storedAddress(a)).filter((a): a is string => Boolean(a)), ...headerRecipients])].slice(0, 200);

  const emailMessageId = randomUUID();

  return withWorkspace(deps.pool, ws, async (tx) => {
    // The parts first (their ids go into the message's metadata): they belong to the email until
    // its conversation message exists, then to that message. The raw source and the email row come
    // last, in one statement with the email's other rows (recordEmail): a repeated delivery is found
    // there and rolls all of it back.
    const ids = await storeFiles(tx, {
      workspaceId: ws,
      owner: { kind: EMAIL_MESSAGE_OWNER, id: emailMessageId },
      at,
      files: parsed.attachments.map((a) => ({ content: a.content, sha256: Buffer.from(a.sha256, 'hex'), filename: a.filename, contentType: a.contentType })),
    });
    const recordEmail = async (conversationId: string, messageId: string, replyToken: string | null, participants: string[]) => {
      const stored = await repo.recordInbound(tx, {
        workspaceId: ws,
        id: emailMessageId,
        inboxId,
        rfcMessageId,
        bodyHash,
        raw,
        rawSha256: rawSha,
        threadRoot: parsed.threadRoot,
        fromAddress: sender,
        recipients,
        via: input.via,
        parseStatus: parsed.status,
        parseError: parsed.error,
        conversationId,
        messageId,
        parts: parsed.attachments.map((a, i) => ({ id: ids[i], contentId: a.contentId, inline: a.inline })),
        replyToken,
        participants: [...new Set(participants)].slice(0, 50),
        sourceOwnerKind: EMAIL_SOURCE_OWNER,
        at,
      });
      if (!stored) {
        const existing = await repo.findInbound(tx, ws, inboxId, rfcMessageId, bodyHash);
        throw new Duplicate({ status: 'duplicate', emailMessageId: existing?.id ?? null, conversationId: existing?.conversation_id ?? null, messageId: existing?.message_id ?? null });
      }
      if (ids.length > 0) await transferFiles(tx, { workspaceId: ws, ids, owner: { kind: MESSAGE_OWNER, id: messageId } });
    };
    const attachments: EmailMessageMetadata['attachments'] = parsed.attachments.map((a, i) => ({
      id: ids[i],
      name: a.filename,
      size: a.size,
      contentType: a.contentType,
      inline: a.inline,
      ...(a.contentId ? { contentId: a.contentId } : {}),
    }));

    // Mail whose sender is not proven is flagged (SECURITY E6, issue #8 M5); mail proven forged
    // (DMARC fail) is trusted for nothing.
    const unverified = check.verdict !== 'verified';
    const forged = check.verdict === 'failed';
    const metadata: EmailMessageMetadata = {
      messageId: parsed.messageId,
      from: parsed.from,
      to: parsed.to.slice(0, 50),
      cc: parsed.cc.slice(0, 50),
      subject: parsed.subject,
      date: parsed.date,
      attachments,
      parse: parsed.status,
      rawAvailable: true,
      ...(parsed.replyTo.length ? { replyTo: parsed.replyTo.slice(0, 10) } : {}),
      ...(parsed.error ? { parseError: parsed.error.split(':')[0] } : {}),
      ...(parsed.quoted ? { quoted: parsed.quoted.slice(0, 200_000) } : {}),
      authentication: check,
      ...(unverified ? { unverified: true } : {}),
    };
    const body = parsed.status === 'parsed' ? parsed.text : unparsedBody(parsed.error);
    const html = parsed.status === 'parsed' && parsed.html ? parsed.html : undefined;
    const systemDeps: WorkspaceContext = { pool: deps.pool, clock: deps.clock, workspaceId: ws, actor: { type: 'system', id: null } };
    const ours = (a: string) => settings.addresses.includes(splitPlusAddress(a).base) || settings.catchAllDomains.includes(a.slice(a.lastIndexOf('@') + 1));
    const others = headerRecipients.filter((a) => !ours(a));

    // A spoofed "From:" of a known customer must not land in that customer's conversation, nor
    // bring its Cc list in (E6). Unverified mail joins only through the secret reply token (a
    // Message-ID is only hard to guess, and a From line proves nothing); mail that fails DMARC never
    // joins, even by token (it may have leaked with a quoted reply). The price is a legitimate
    // reply that fails DMARC (a broken forwarder) opening a new, flagged conversation.
    const match = forged
      ? null
      : await findThread(tx, {
          workspaceId: ws,
          inboxId,
          inboxAddresses: settings.addresses,
          recipients,
          inReplyTo: parsed.inReplyTo,
          references: parsed.references,
          threadRoot: parsed.threadRoot,
        });
    if (match) {
      const conversation = await findConversationForChannel(tx, ws, match.conversationId);
      const isCustomer = conversation?.customer_email === sender;
      const known = isCustomer || (await repo.isParticipant(tx, ws, match.conversationId, sender));
      // A stranger who only cites a Message-ID does not join someone else's conversation (E6):
      // the secret reply token is the one proof that they were sent this thread.
      if (conversation && (match.by === 'reply_token' || (known && !unverified))) {
        const author = isCustomer ? conversation.customer_id : (await findOrCreateCustomer(tx, systemDeps, { email: sender, name: parsed.from?.name || undefined }, at)).customerId;
        // The one ingest path: it appends as this customer and reopens a resolved, closed or
        // snoozed conversation (status_changed, reason customer_replied) exactly as for any channel.
        const { messageId } = await ingestInbound(tx, systemDeps, {
          inboxId,
          customer: { customerId: author },
          thread: { conversationId: match.conversationId },
          body,
          html,
          at,
          metadata: { email: { ...metadata, threadedBy: match.by, ...(isCustomer ? {} : { participant: true }) } },
        });
        // Whoever a trusted reply was also sent to (To/Cc beyond our own addresses) is on the thread
        // now: their answers join it as participants. Participants never become the customer.
        // Unverified mail adds nobody: its From and Cc lines may be an attacker's (E6).
        const joined = unverified ? [] : [...(isCustomer ? [] : [sender]), ...others].filter((a) => a !== conversation.customer_email);
        await recordEmail(match.conversationId, messageId, null, joined);
        return { status: 'stored', emailMessageId, conversationId: match.conversationId, messageId };
      }
    }

    // A new conversation. A forward (an agent passing a customer's email on) is attributed to the
    // original sender, flagged as forwarded and unverified: anyone can write a "From:" line, so only
    // a forward by the workspace's own people, in mail that did not fail DMARC, is read this way.
    const forwarded = forwardedByUs && !unverified && parsed.forwardedFrom && storedAddress(parsed.forwardedFrom.address) !== sender ? parsed.forwardedFrom : null;
    const customerAddress = (forwarded && storedAddress(forwarded.address)) || sender;
    const customerName = (forwarded ? forwarded.name : parsed.from?.name) || undefined;
    const { customerId } = await findOrCreateCustomer(tx, systemDeps, { email: customerAddress, name: customerName?.slice(0, 200) }, at);
    const opened = await ingestInbound(tx, systemDeps, {
      inboxId,
      customer: { customerId },
      thread: 'new',
      subject: parsed.subject,
      body,
      html,
      at,
      metadata: { email: { ...metadata, ...(forwarded ? { forwardedBy: parsed.from ?? { name: '', address: sender }, unverified: true } : {}) } },
    });
    await recordEmail(opened.conversationId, opened.messageId, newReplyToken(), [customerAddress, ...(unverified ? [] : others)]);
    if (settings.autoAck?.enabled && !isAutomatic(parsed, input.envelopeFrom) && !forwarded && !unverified) {
      await enqueue(tx, AUTOACK_TASK, { workspaceId: ws, conversationId: opened.conversationId, emailMessageId }, { jobKey: `email.autoack:${opened.conversationId}`, maxAttempts: 5 });
    }
    return { status: 'stored', emailMessageId, conversationId: opened.conversationId, messageId: opened.messageId };
  });
}

export async function replyTokenOf(tx: Queryable, ws: string, conversationId: string): Promise<string | undefined> {
  return repo.replyToken(tx, ws, conversationId);
}

/**
 * An agent's email reply with Cc and attachments: the conversation's reply plus the extra
 * recipients, checked here (E14) so a bad address is a 422 now instead of a failed delivery later.
 * Attachments are the caller's own unused uploads in this workspace (F3); anything else, whether
 * unknown, another person's, another workspace's or already sent, is the same 404.
 */
export async function replyByEmail(
  deps: WorkspaceContext,
  conversationId: string,
  input: { body: string; html?: string; cc?: string[]; attachmentIds?: string[]; macroId?: string } & ReplyGuardInput,
  limits: AttachmentLimits,
): Promise<{ messageId: string }> {
  // One transaction: a reply written from a macro brings the macro's actions, and if one of them
  // fails (a tag too many) the reply, its files, its Cc participants and every event roll back with
  // it, so nothing is sent that the agent did not see succeed. An unknown macro is refused first.
  return inWorkspaceTx(deps, async (tx) => {
    const ctx = inTx(deps, tx);
    const actions = input.macroId ? await macroActionsOf(ctx, input.macroId) : null;
    const sent = await sendEmailReply(ctx, conversationId, input, limits);
    if (actions) await runMacroActions(ctx, conversationId, actions);
    return sent;
  });
}

async function sendEmailReply(
  deps: WorkspaceContext,
  conversationId: string,
  input: { body: string; html?: string; cc?: string[]; attachmentIds?: string[] } & ReplyGuardInput,
  limits: AttachmentLimits,
): Promise<{ messageId: string }> {
  const cc: EmailAddress[] = [];
  for (const a of input.cc ?? []) {
    const c = canonicalAddress(a);
    if (!c) throw emailErrors.ambiguousRecipient(`"${a.slice(0, 100)}" is not a plain email address.`);
    if (!cc.some((x) => x.address === c)) cc.push({ name: '', address: c });
  }
  const attachmentIds = [...new Set((input.attachmentIds ?? []).map((id) => id.toLowerCase()))];
  return inWorkspaceTx(deps, async (tx) => {
    // Locked before the collision check (as the core reply does): a second reply sent at the same
    // moment waits here, then sees this one and is refused instead of both going out.
    const conversation = await findConversationForChannel(tx, deps.workspaceId, conversationId, { lock: true });
    if (!conversation) throw emailErrors.conversationNotFound();
    if (conversation.channel !== 'email') throw emailErrors.notEmailConversation();
    await checkReplyCollision(inTx(deps, tx), conversationId, input);
    // The message id comes with the message, and the message lists its files: the files are
    // checked first (one 404 for any id that is not the caller's own unsent upload, F3), then
    // attached to the new message in the same transaction.
    const pending = { kind: PENDING_REPLY_OWNER, id: conversationId };
    const attachments: EmailMessageMetadata['attachments'] = (await claimUploads(tx, deps, attachmentIds, pending, limits)).map((a) => ({ ...a, inline: false }));
    const author = { type: deps.actor.type === 'token' ? ('token' as const) : ('user' as const), id: deps.actor.id };
    const messageId = await appendMessage(tx, deps, {
      conversationId,
      type: 'outbound',
      author,
      body: input.body,
      html: input.html,
      at: deps.clock.now(),
      metadata: { email: { cc, attachments } },
    });
    await transferFiles(tx, { workspaceId: deps.workspaceId, ids: attachments.map((a) => a.id), owner: { kind: MESSAGE_OWNER, id: messageId } });
    if (cc.length)
      await repo.addParticipants(
        tx,
        deps.workspaceId,
        conversationId,
        cc.map((c) => c.address),
      );
    return { messageId };
  });
}

/** The owner kinds the email channel gives files in the attachments module. */
export const EMAIL_SOURCE_OWNER = 'email_source';
export const EMAIL_MESSAGE_OWNER = 'email_message';
/** Held for the few statements between checking a reply's uploads and creating its message. */
const PENDING_REPLY_OWNER = 'email_reply';

/**
 * The kinds above, for the attachments collector: an email's source and parts go with its email row;
 * a reply's uploads are held by its conversation (they move to the message in the same transaction,
 * so a committed one was left by something unforeseen and goes once its conversation does).
 */
export const emailAttachmentOwners: AttachmentOwnerKind[] = [
  { kind: EMAIL_SOURCE_OWNER, existing: (tx, ws, ids) => repo.existingEmails(tx, ws, ids) },
  { kind: EMAIL_MESSAGE_OWNER, existing: (tx, ws, ids) => repo.existingEmails(tx, ws, ids) },
  { kind: PENDING_REPLY_OWNER, existing: existingConversationIds },
];

/** The caller's uploads for a reply; the core module's codes become the channel's own (its API keeps them). */
async function claimUploads(tx: Queryable, deps: WorkspaceContext, ids: string[], owner: { kind: string; id: string }, limits: AttachmentLimits) {
  try {
    return await attachUploads(tx, { workspaceId: deps.workspaceId, uploader: principalOf(deps.actor), ids, owner, limits });
  } catch (error) {
    throw emailAttachmentError(error);
  }
}

/** /email/uploads and /email/attachments answered with email.* codes before files moved to the core module; they still do. */
export function emailAttachmentError(error: unknown): unknown {
  if (!(error instanceof AppError)) return error;
  if (error.code === 'attachments.not_found') return emailErrors.attachmentNotFound();
  if (error.code === 'attachments.file_too_large') return emailErrors.uploadTooLarge(error.message);
  if (error.code === 'attachments.invalid_name') return emailErrors.invalidUploadName(error.message);
  return error;
}

/** The original RFC 822 source of an email message (inbound), as stored when it arrived. */
export async function getRawSource(deps: WorkspaceContext, messageId: string) {
  const file = await withWorkspace(deps.pool, deps.workspaceId, async (tx) => {
    const emailId = await repo.emailOfMessage(tx, deps.workspaceId, messageId);
    return emailId ? (await contentsOf(tx, deps.workspaceId, { kind: EMAIL_SOURCE_OWNER, id: emailId }))[0] : undefined;
  });
  if (!file) throw emailErrors.rawNotFound();
  return file;
}
