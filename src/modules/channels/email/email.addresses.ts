import { createRequire } from 'node:module';

/**
 * Address rules for the email channel. Outbound recipients must be plain dot-atom addresses
 * (RFC 5322 §3.4.1 without quoted local parts, comments or routes): SECURITY E14 lists addresses
 * such as `"v@x.com x"@evil.com` and `"user"@example.com(x)evil.com` that two mail systems read as two
 * different mailboxes; Rapport refuses them instead of guessing.
 */
const ATEXT = "[a-z0-9!#$%&'*+/=?^_`{|}~-]";
const LOCAL = new RegExp(`^${ATEXT}+(\\.${ATEXT}+)*$`);
const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** `local@domain` lower-cased when the address is unambiguous, else null. */
export function canonicalAddress(input: string): string | null {
  const value = input.trim().toLowerCase();
  if (value.length > 254) return null;
  const at = value.lastIndexOf('@');
  if (at <= 0 || at !== value.indexOf('@')) return null;
  const local = value.slice(0, at);
  const domain = value.slice(at + 1);
  if (local.length > 64 || !LOCAL.test(local)) return null;
  const labels = domain.split('.');
  if (labels.length < 2 || !labels.every((l) => LABEL.test(l))) return null;
  return `${local}@${domain}`;
}

/**
 * The form an inbound sender is stored in: trimmed and lower-cased, but kept even when it is not a
 * plain address (a quoted local part is a real, if odd, mailbox); replies to it are refused later.
 */
export function storedAddress(input: string | undefined | null): string | null {
  if (!input) return null;
  const value = input
    .replace(/[\u0000-\u001f\u007f]/g, '')
    .trim()
    .toLowerCase();
  if (!value.includes('@') || value.length > 320) return null;
  return value;
}

/** Splits `support+token@acme.test` into its base address and token. */
export function splitPlusAddress(address: string): { base: string; tag: string | null } {
  const at = address.lastIndexOf('@');
  if (at <= 0) return { base: address, tag: null };
  const local = address.slice(0, at);
  const plus = local.indexOf('+');
  if (plus < 0) return { base: address, tag: null };
  return { base: `${local.slice(0, plus)}${address.slice(at)}`, tag: local.slice(plus + 1) || null };
}

/** A display name or subject made safe for a header: no line breaks or control characters at all. */
export function headerText(value: string, max = 200): string {
  const flat = value
    .replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return flat.length > max ? flat.slice(0, max) : flat;
}

const requireCjs = createRequire(import.meta.url);
let publicDomains: Set<string> | null = null;

/**
 * Whether a domain (or a domain it is under) hands out addresses to the public: gmail.com,
 * outlook.com, mail.ru and about 96,000 others, from the maintained `free-email-domains-list`
 * package. Its addresses belong to many unrelated people, so it can never be a catch-all
 * (SECURITY H2). Loaded once (about 100 ms, 15 MB); the email module loads it when it starts, so
 * no request or SMTP session pays for it.
 */
export function isPublicMailDomain(domain: string): boolean {
  // Only the list, not the package's entry point (which also loads an email validator).
  publicDomains ??= (requireCjs('free-email-domains-list/build/src/constants.js') as { DOMAINS: Set<string> }).DOMAINS;
  const labels = domain.toLowerCase().replace(/\.$/, '').split('.');
  for (let i = 0; i < labels.length - 1; i++) if (publicDomains.has(labels.slice(i).join('.'))) return true;
  return false;
}
