import { createHash } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import { simpleParser, type AddressObject, type ParsedMail } from 'mailparser';
import { type AuthResult, type EmailAddress, type ParseLimits, type ParsedAttachment, type ParsedEmail, unparsedEmail } from './email.parser.types.js';
import { plainLabel } from './email.labels.js';
import { splitQuoted } from './email.quoting.js';

/**
 * Runs inside a worker thread with a memory cap (see email.parser.ts): one hostile message can
 * exhaust this thread, never the server. Cheap linear pre-checks refuse MIME bombs before mailparser
 * sees them; the raw source is stored either way, so nothing is lost when a body is not read.
 */
interface Job {
  id: number;
  raw: Uint8Array;
  limits: ParseLimits;
}

parentPort!.on('message', async (job: Job) => {
  try {
    const result = await parse(Buffer.from(job.raw.buffer, job.raw.byteOffset, job.raw.byteLength), job.limits);
    const transfer = result.attachments.map((a) => a.content.buffer as ArrayBuffer);
    parentPort!.postMessage({ id: job.id, result }, transfer);
  } catch (error) {
    parentPort!.postMessage({ id: job.id, error: (error as Error).message ?? String(error) });
  }
});

class Refused extends Error {}

export function headerEnd(raw: Buffer): number {
  const crlf = raw.indexOf('\r\n\r\n');
  const lf = raw.indexOf('\n\n');
  if (crlf < 0) return lf < 0 ? raw.length : lf;
  return lf < 0 ? crlf : Math.min(crlf, lf);
}

function countMatches(text: string, re: RegExp, stopAt: number): number {
  let n = 0;
  re.lastIndex = 0;
  while (re.exec(text)) if (++n > stopAt) break;
  return n;
}

async function parse(raw: Buffer, limits: ParseLimits): Promise<ParsedEmail> {
  const end = headerEnd(raw);
  if (end > limits.maxHeaderBytes) return headersOnly(raw, limits, 'header_too_large');
  // latin1 maps each byte to one char: a linear scan that cannot fail on bad UTF-8.
  const text = raw.toString('latin1');
  if (countMatches(text, /^content-type:/gim, limits.maxParts + 1) > limits.maxParts) return headersOnly(raw, limits, 'too_many_parts');
  if (countMatches(text, /message\/(rfc822|global)/gi, limits.maxDepth + 1) > limits.maxDepth) return headersOnly(raw, limits, 'too_deep');
  let mail: ParsedMail;
  try {
    mail = await simpleParser(raw, {
      skipImageLinks: true,
      skipTextLinks: true,
      skipTextToHtml: true,
      keepCidLinks: true,
      maxHtmlLengthToParse: limits.maxHtmlLength,
      checksumAlgo: 'sha256',
      // mailparser's splitter has its own node limit (1,000 by default): ours decides.
      maxChildNodes: limits.maxParts + 1,
      maxHeadSize: limits.maxHeaderBytes,
    } as Parameters<typeof simpleParser>[1]);
  } catch (error) {
    return headersOnly(raw, limits, `parse_failed: ${(error as Error).message}`.slice(0, 200));
  }
  return toParsed(mail, 'parsed', null, limits, text);
}

/**
 * The header fields that say who sent the message and what it is, read alone when the message as a
 * whole is refused: each kept field is capped, everything else in the header section is skipped.
 */
const KEPT_FIELDS = /^(from|to|cc|reply-to|subject|message-id|in-reply-to|references|date|auto-submitted|precedence|thread-index|authentication-results):/i;

async function headersOnly(raw: Buffer, limits: ParseLimits, reason: string): Promise<ParsedEmail> {
  const head = raw.subarray(0, headerEnd(raw)).toString('latin1');
  const kept: string[] = [];
  let current: string | null = null;
  const flush = () => {
    if (current !== null && current.length <= 16 * 1024 && kept.length < 50) kept.push(current);
    current = null;
  };
  for (const line of head.split(/\r?\n/)) {
    if (/^[ \t]/.test(line)) {
      if (current !== null) current += `\r\n${line}`;
      if (current !== null && current.length > 16 * 1024) current = '\u0000'.repeat(16 * 1024 + 1);
      continue;
    }
    flush();
    if (KEPT_FIELDS.test(line)) current = line;
  }
  flush();
  try {
    const mail = await simpleParser(Buffer.from(`${kept.join('\r\n')}\r\n\r\n`, 'latin1'), { skipHtmlToText: true } as Parameters<typeof simpleParser>[1]);
    const parsed = toParsed(mail, 'unparsed', reason, limits);
    return { ...parsed, text: '', quoted: null, html: null, attachments: [], forwardedFrom: null };
  } catch {
    return unparsedEmail(reason);
  }
}

const MSGID = /<([^<>\s]{1,500})>/g;

function messageIds(value: unknown, max = 100): string[] {
  const text = Array.isArray(value) ? value.join(' ') : typeof value === 'string' ? value : '';
  const out: string[] = [];
  for (const m of text.slice(0, 100_000).matchAll(MSGID)) {
    out.push(m[1].toLowerCase());
    if (out.length >= max) break;
  }
  if (out.length === 0 && text.trim() && !/\s/.test(text.trim()) && text.length <= 500) out.push(text.trim().replace(/^<|>$/g, '').toLowerCase());
  return out;
}

function addresses(value: AddressObject | AddressObject[] | undefined, max = 200): EmailAddress[] {
  const list = Array.isArray(value) ? value : value ? [value] : [];
  const out: EmailAddress[] = [];
  const visit = (entries: { name?: string; address?: string; group?: unknown[] }[]) => {
    for (const e of entries) {
      if (out.length >= max) return;
      if (Array.isArray(e.group)) visit(e.group as typeof entries);
      else if (e.address) out.push({ name: plainLabel(e.name ?? '', 200), address: e.address.slice(0, 320) });
    }
  };
  for (const v of list) visit(v.value as { name?: string; address?: string; group?: unknown[] }[]);
  return out;
}

function headerString(mail: ParsedMail, name: string): string | null {
  const v = mail.headers.get(name);
  if (v === undefined || v === null) return null;
  if (typeof v === 'string') return v.slice(0, 1000);
  if (typeof v === 'object' && 'value' in (v as object)) return String((v as { value: unknown }).value).slice(0, 1000);
  return String(v).slice(0, 1000);
}

/** Outlook's Thread-Index: base64 of 22 bytes naming the thread, then 5 bytes per reply. */
function threadRoot(value: string | null): string | null {
  if (!value) return null;
  const bytes = Buffer.from(value.replace(/\s+/g, ''), 'base64');
  return bytes.length >= 22 ? bytes.subarray(0, 22).toString('base64') : null;
}

function toParsed(mail: ParsedMail, status: 'parsed' | 'unparsed', error: string | null, limits: ParseLimits, rawText = ''): ParsedEmail {
  const text = typeof mail.text === 'string' ? mail.text : '';
  const { fresh, quoted } = splitQuoted(text);
  const attachments: ParsedAttachment[] = [];
  let forwardedFrom: EmailAddress | null = null;
  for (const a of mail.attachments ?? []) {
    if (attachments.length >= limits.maxParts) break;
    const content = new Uint8Array(a.content.byteLength);
    content.set(a.content);
    const contentType = (a.contentType || 'application/octet-stream').toLowerCase().slice(0, 200);
    attachments.push({
      filename: plainLabel(a.filename ?? '', 500) || (contentType === 'message/rfc822' ? 'message.eml' : 'attachment'),
      contentType,
      size: content.byteLength,
      sha256: createHash('sha256').update(content).digest('hex'),
      content,
      contentId: a.contentId ? a.contentId.replace(/^<|>$/g, '').slice(0, 500) : null,
      inline: a.contentDisposition === 'inline' || Boolean(a.related),
    });
    if (!forwardedFrom && contentType === 'message/rfc822') forwardedFrom = fromOfAttachedMessage(Buffer.from(content));
  }
  if (!forwardedFrom && mail.headers.has('content-type') && mail.attachments.length === 0) forwardedFrom = fromOfRfc822Part(rawText);
  if (!forwardedFrom) forwardedFrom = fromOfInlineForward(text);
  const from = addresses(mail.from, 1)[0] ?? null;
  return {
    status,
    error,
    messageId: messageIds(mail.messageId ?? '', 1)[0] ?? null,
    inReplyTo: messageIds(mail.inReplyTo ?? '', 20),
    references: messageIds(mail.references ?? '', 100),
    threadRoot: threadRoot(headerString(mail, 'thread-index')),
    subject: mail.subject ? mail.subject.slice(0, 1000) : null,
    date: mail.date && !Number.isNaN(mail.date.getTime()) ? mail.date.toISOString() : null,
    from,
    replyTo: addresses(mail.replyTo, 20),
    to: addresses(mail.to),
    cc: addresses(mail.cc),
    text: fresh,
    quoted,
    html: typeof mail.html === 'string' ? mail.html : null,
    attachments,
    auto: {
      autoSubmitted: headerString(mail, 'auto-submitted')?.toLowerCase().trim() ?? null,
      precedence: headerString(mail, 'precedence')?.toLowerCase().trim() ?? null,
      // mailparser gathers List-* headers under one 'list' key.
      listId: mail.headers.has('list') || mail.headers.has('list-id') || mail.headers.has('list-unsubscribe'),
      autoReplyHeader: mail.headers.has('x-autoreply') || mail.headers.has('x-autorespond') || /\b(all|oof|autoreply)\b/i.test(headerString(mail, 'x-auto-response-suppress') ?? ''),
    },
    authResults: authResultsOf(mail),
    forwardedFrom,
  };
}

/**
 * Every Authentication-Results header in source order (topmost first): RFC 8601 §2.2 puts the
 * authserv-id first, before the first ";". Comments are dropped so "(dmarc=pass)" says nothing.
 */
function authResultsOf(mail: ParsedMail): AuthResult[] {
  const out: AuthResult[] = [];
  for (const h of mail.headerLines ?? []) {
    if (h.key !== 'authentication-results') continue;
    const value = h.line
      .slice(h.line.indexOf(':') + 1, 8192)
      .replace(/\r?\n[ \t]+/g, ' ')
      .replace(/\([^()]*\)/g, ' ');
    const authservId = (value.split(';')[0].trim().split(/\s+/)[0] ?? '').replace(/^"|"$/g, '').toLowerCase().slice(0, 255);
    const dmarc = /(?:^|[\s;])dmarc\s*=\s*([a-z]+)/i.exec(value)?.[1]?.toLowerCase() ?? null;
    out.push({ authservId, dmarc });
    if (out.length >= 20) break;
  }
  return out;
}

/** The From line of a message forwarded as an attachment: read from its header section only. */
function fromOfAttachedMessage(content: Buffer): EmailAddress | null {
  const head = content.subarray(0, Math.min(headerEnd(content), 32 * 1024)).toString('utf8');
  const m = /^from:[ \t]*(.{1,500}(?:\r?\n[ \t].{0,500}){0,3})/im.exec(head);
  return m ? simpleAddress(m[1].replace(/\r?\n[ \t]/g, ' ')) : null;
}

/**
 * mailparser shows an attached message/rfc822 inline, as text: find the first such part in the
 * source and read the From line of the message inside it (its own header section only).
 */
function fromOfRfc822Part(rawText: string): EmailAddress | null {
  const part = /^content-type:[ \t]*message\/rfc822/im.exec(rawText);
  if (!part) return null;
  const partHeadersEnd = rawText.slice(part.index, part.index + 8192).search(/\r?\n\r?\n/);
  if (partHeadersEnd < 0) return null;
  return fromOfAttachedMessage(Buffer.from(rawText.slice(part.index + partHeadersEnd, part.index + partHeadersEnd + 32 * 1024).replace(/^\s+/, ''), 'latin1'));
}

/** "---------- Forwarded message ---------" (Gmail), "Begin forwarded message:" (Apple Mail), Outlook's block. */
function fromOfInlineForward(text: string): EmailAddress | null {
  const head = text.slice(0, 20_000);
  const marker = /(-{5,} ?forwarded message ?-{5,}|begin forwarded message:|-{5,} ?original message ?-{5,})/i.exec(head);
  if (!marker) return null;
  const after = head.slice(marker.index, marker.index + 2000);
  const m = /^\s*\*?from:\*?[ \t]*(.{1,500})$/im.exec(after);
  return m ? simpleAddress(m[1]) : null;
}

/** `Name <a@b>` or `a@b`, read with bounded, non-backtracking patterns. */
function simpleAddress(value: string): EmailAddress | null {
  const angle = /<([^<>\s@]{1,64}@[^<>\s@]{1,255})>/.exec(value);
  if (angle) {
    const name = value.slice(0, angle.index).replace(/["']/g, '');
    return { name: plainLabel(name, 200), address: angle[1].toLowerCase() };
  }
  const bare = /([^\s<>"@]{1,64}@[^\s<>"@]{1,255})/.exec(value);
  return bare ? { name: '', address: bare[1].toLowerCase() } : null;
}
