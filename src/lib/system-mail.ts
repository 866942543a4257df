import nodemailer from 'nodemailer';
import type { SettingSpec } from './settings.js';

/**
 * Mail Rapport itself sends to prove that someone controls an address (address confirmation links,
 * password reset links), through the operator's relay: never through an inbox's own SMTP settings,
 * which whoever creates the inbox chooses, and so could point at a server they read.
 */

/** `smtp://user:pass@host:587` (STARTTLS when offered) or `smtps://host:465`; `?requireTLS=true` to insist. */
export function parseSmtpUrl(raw: string): string {
  const url = new URL(raw);
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') throw new Error('must start with smtp:// or smtps://');
  return raw;
}

/** The relay settings, declared once; `config.ts` collects them (the email module reads the same ones). */
export const systemMailSettings = {
  systemMailSmtpUrl: {
    env: 'EMAIL_VERIFICATION_SMTP_URL',
    description:
      "the operator's mail relay that sends address confirmation and password reset links (smtp://user:pass@host:587 or smtps://host:465; unset: addresses are proven by a DNS record only and nobody can reset a password by email)",
    default: null as string | null,
    parse: (raw: string): string | null => parseSmtpUrl(raw),
  },
  systemMailFrom: {
    env: 'EMAIL_VERIFICATION_FROM',
    description: 'the From of address confirmation and password reset emails (default: no-reply at the host of PUBLIC_URL)',
    default: null as string | null,
    parse: (raw: string): string | null => {
      const address = raw.trim().toLowerCase();
      // A plain address: one @, no spaces, no display name, no header tricks.
      if (!/^[^\s@<>"(),;:\\[\]]+@[^\s@<>"(),;:\\[\]]+\.[^\s@<>"(),;:\\[\]]+$/.test(address) || address.length > 254) throw new Error('must be a plain email address');
      return address;
    },
  },
} satisfies Record<string, SettingSpec<unknown>>;

/** Sends Rapport's own emails through the operator's relay. */
export interface SystemMailer {
  send(mail: { to: string; subject: string; text: string }): Promise<void>;
}

/** The From when none is set: no-reply at the host people open (localhost for a bare IPv6 literal). */
export function defaultSystemFrom(publicUrl: string): string {
  return `no-reply@${new URL(publicUrl).hostname.replace(/^\[.*\]$/, 'localhost')}`;
}

export function createSystemMailer(opts: { url: string; from: string; timeoutMs: number }): SystemMailer {
  const url = new URL(opts.url);
  const secure = url.protocol === 'smtps:';
  const transportOptions = {
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port ? Number(url.port) : secure ? 465 : 587,
    secure,
    requireTLS: url.searchParams.get('requireTLS') === 'true',
    auth: url.username ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } : undefined,
    connectionTimeout: opts.timeoutMs,
    greetingTimeout: opts.timeoutMs,
    socketTimeout: opts.timeoutMs,
  };
  return {
    async send(mail) {
      const transport = nodemailer.createTransport(transportOptions);
      try {
        await transport.sendMail({
          from: opts.from,
          to: mail.to,
          subject: mail.subject,
          text: mail.text,
          // RFC 3834: an automatic message; autoresponders must not answer it.
          headers: { 'Auto-Submitted': 'auto-generated' },
          disableFileAccess: true,
          disableUrlAccess: true,
        });
      } finally {
        transport.close();
      }
    },
  };
}

/** The relay mailer configured for this server, or null when EMAIL_VERIFICATION_SMTP_URL is unset. */
export function systemMailerFrom(config: { systemMailSmtpUrl: string | null; systemMailFrom: string | null }, publicUrl: string, timeoutMs = 30_000): SystemMailer | null {
  if (!config.systemMailSmtpUrl) return null;
  return createSystemMailer({ url: config.systemMailSmtpUrl, from: config.systemMailFrom ?? defaultSystemFrom(publicUrl), timeoutMs });
}
