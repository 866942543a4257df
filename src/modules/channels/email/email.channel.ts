import type { OutboundGuard } from '../../../lib/outbound/outbound.guard.js';
import type { ChannelDefinition } from '../channels.registry.js';
import { emailErrors } from './email.errors.js';
import { canonicalAddress, isPublicMailDomain } from './email.addresses.js';
import { claimInboxAddresses } from './email.ownership.service.js';

/**
 * Settings of an inbox with channel "email". Addresses are stored lower-cased: inbound routing
 * looks them up exactly. Secrets (IMAP and SMTP passwords) never leave the server in API answers.
 */
export interface EmailInboxSettings {
  /** Addresses that deliver into this inbox; the first is the From of replies. */
  addresses: string[];
  /** Domains whose every other address lands here (a per-workspace catch-all). */
  catchAllDomains: string[];
  /** Display name on replies ("Acme Support"); the agent's name is put in front of it. */
  fromName: string | null;
  imap: ImapSettings | null;
  smtp: SmtpSettings | null;
  autoAck: { enabled: boolean; subject: string; body: string } | null;
}

export interface ImapSettings {
  host: string;
  port: number;
  /** 'implicit' (IMAPS, 993), 'starttls', or 'none' (loopback and tests only). */
  tls: 'implicit' | 'starttls' | 'none';
  user: string;
  password: string;
  mailbox: string;
  /** After the database commit: set \Seen, or move the message to `moveTo`. */
  afterFetch: 'seen' | 'move';
  moveTo: string | null;
}

export interface SmtpSettings {
  host: string;
  port: number;
  tls: 'implicit' | 'starttls' | 'none';
  user: string | null;
  password: string | null;
}

const SECRET = '********';

function fail(detail: string): never {
  throw emailErrors.invalidSettings(detail);
}

function str(v: unknown, field: string, opts: { max?: number; optional?: boolean } = {}): string | null {
  if (v === undefined || v === null || v === '') {
    if (opts.optional) return null;
    fail(`${field} is required.`);
  }
  if (typeof v !== 'string') fail(`${field} must be a string.`);
  if (v.length > (opts.max ?? 500)) fail(`${field} is too long.`);
  // No control characters anywhere in settings that end up in headers or protocol lines.
  if (/[\u0000-\u001f\u007f]/.test(v)) fail(`${field} must not contain control characters.`);
  return v;
}

function port(v: unknown, field: string, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 65535) fail(`${field} must be a port number.`);
  return v;
}

function tls(v: unknown, field: string, fallback: 'implicit' | 'starttls' | 'none') {
  if (v === undefined) return fallback;
  if (v !== 'implicit' && v !== 'starttls' && v !== 'none') fail(`${field} must be implicit, starttls or none.`);
  return v;
}

function host(v: unknown, field: string, outbound: OutboundGuard): string {
  const h = str(v, field, { max: 253 })!;
  outbound.checkHost(h, field);
  return h.trim();
}

function allowOnly(o: Record<string, unknown>, keys: string[], field: string) {
  for (const k of Object.keys(o)) if (!keys.includes(k)) fail(`${field}.${k} is not a setting.`);
}

function obj(v: unknown, field: string): Record<string, unknown> | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'object' || Array.isArray(v)) fail(`${field} must be an object.`);
  return v as Record<string, unknown>;
}

/**
 * `outbound` checks the IMAP and SMTP hosts: a forbidden literal address (loopback, private,
 * metadata, in any notation) is refused here, a name when connecting (SECURITY M4).
 */
export function parseEmailSettings(input: Record<string, unknown>, outbound: OutboundGuard): EmailInboxSettings {
  allowOnly(input, ['addresses', 'catchAllDomains', 'fromName', 'imap', 'smtp', 'autoAck'], 'settings');
  const rawAddresses = input.addresses;
  if (!Array.isArray(rawAddresses) || rawAddresses.length === 0 || rawAddresses.length > 50) fail('addresses must list 1 to 50 addresses.');
  const addresses = rawAddresses.map((a, i) => {
    const c = typeof a === 'string' ? canonicalAddress(a) : null;
    if (!c) fail(`addresses[${i}] is not a plain email address.`);
    if (c.split('@')[0].includes('+')) fail(`addresses[${i}] must not contain "+": it is reserved for reply tokens.`);
    return c;
  });
  const rawDomains = input.catchAllDomains ?? [];
  if (!Array.isArray(rawDomains) || rawDomains.length > 20) fail('catchAllDomains must be a list.');
  const catchAllDomains = rawDomains.map((d, i) => {
    const c = typeof d === 'string' ? canonicalAddress(`x@${d}`) : null;
    if (!c) fail(`catchAllDomains[${i}] is not a domain.`);
    const domain = c.slice(2);
    if (isPublicMailDomain(domain)) {
      throw emailErrors.publicDomainCatchAll(`catchAllDomains[${i}] (${domain}) is a public mail domain: its addresses belong to many different people. List your own addresses there instead.`);
    }
    return domain;
  });

  const imapIn = obj(input.imap, 'imap');
  let imap: ImapSettings | null = null;
  if (imapIn) {
    allowOnly(imapIn, ['host', 'port', 'tls', 'user', 'password', 'mailbox', 'afterFetch', 'moveTo'], 'imap');
    const t = tls(imapIn.tls, 'imap.tls', 'implicit');
    const afterFetch = imapIn.afterFetch ?? 'seen';
    if (afterFetch !== 'seen' && afterFetch !== 'move') fail('imap.afterFetch must be seen or move.');
    const moveTo = str(imapIn.moveTo, 'imap.moveTo', { optional: true });
    if (afterFetch === 'move' && !moveTo) fail('imap.moveTo is required when afterFetch is move.');
    imap = {
      host: host(imapIn.host, 'imap.host', outbound),
      port: port(imapIn.port, 'imap.port', t === 'implicit' ? 993 : 143),
      tls: t,
      user: str(imapIn.user, 'imap.user')!,
      password: str(imapIn.password, 'imap.password')!,
      mailbox: str(imapIn.mailbox, 'imap.mailbox', { optional: true }) ?? 'INBOX',
      afterFetch,
      moveTo,
    };
  }

  const smtpIn = obj(input.smtp, 'smtp');
  let smtp: SmtpSettings | null = null;
  if (smtpIn) {
    allowOnly(smtpIn, ['host', 'port', 'tls', 'user', 'password'], 'smtp');
    const t = tls(smtpIn.tls, 'smtp.tls', 'starttls');
    smtp = {
      host: host(smtpIn.host, 'smtp.host', outbound),
      port: port(smtpIn.port, 'smtp.port', t === 'implicit' ? 465 : 587),
      tls: t,
      user: str(smtpIn.user, 'smtp.user', { optional: true }),
      password: str(smtpIn.password, 'smtp.password', { optional: true }),
    };
  }

  const ackIn = obj(input.autoAck, 'autoAck');
  let autoAck: EmailInboxSettings['autoAck'] = null;
  if (ackIn) {
    allowOnly(ackIn, ['enabled', 'subject', 'body'], 'autoAck');
    if (ackIn.enabled !== undefined && typeof ackIn.enabled !== 'boolean') fail('autoAck.enabled must be a boolean.');
    const body = typeof ackIn.body === 'string' && ackIn.body.length <= 10_000 ? ackIn.body : fail('autoAck.body must be a text of at most 10,000 characters.');
    autoAck = {
      enabled: ackIn.enabled !== false,
      subject: str(ackIn.subject, 'autoAck.subject', { optional: true, max: 200 }) ?? 'We received your message [#{{number}}]',
      body,
    };
  }

  return {
    addresses,
    catchAllDomains,
    fromName: str(input.fromName, 'fromName', { optional: true, max: 100 }),
    imap,
    smtp,
    autoAck,
  };
}

export const emailChannel: ChannelDefinition = {
  kind: 'email',
  description: 'Email: inbound over SMTP and IMAP, replies over SMTP',
  capabilities: { html: true, attachments: true, replyWindowHours: null, typing: false, readReceipts: false },
  identityKinds: [{ kind: 'email', description: 'An email address' }],
  validateSettings(settings, context) {
    return parseEmailSettings(settings, context.outbound) as unknown as Record<string, unknown>;
  },
  inboxSaved(tx, _pool, inbox) {
    return claimInboxAddresses(tx, { ...inbox, settings: inbox.settings as unknown as EmailInboxSettings });
  },
  publicSettings(settings) {
    const s = settings as unknown as EmailInboxSettings;
    return {
      ...s,
      imap: s.imap ? { ...s.imap, password: SECRET } : null,
      smtp: s.smtp ? { ...s.smtp, password: s.smtp.password ? SECRET : null } : null,
    };
  },
};
