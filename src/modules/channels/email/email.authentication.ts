import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { authenticate, type AuthenticateResult, type DKIMResult } from 'mailauth';
import type { DnsResolver } from '../../../lib/dns.js';
import type { AuthResult } from './email.parser.types.js';

/**
 * Whether an inbound email really comes from the domain in its From line (SECURITY E6, issue #8
 * M5). Anyone can write "From: ceo@customer.com" and any "Authentication-Results: ... dmarc=pass"
 * header they like, so neither is believed on its own:
 * - with EMAIL_AUTHSERV_ID set, the mail server in front of Rapport has checked the message: its
 *   verdict is the topmost Authentication-Results header, and only when that header carries its
 *   authserv-id (RFC 8601 §5: the nearest hop prepends its header above anything the sender wrote);
 * - otherwise Rapport checks SPF, DKIM and DMARC itself (mailauth) from what the SMTP session saw:
 *   the client's IP address, its HELO name and the MAIL FROM;
 * - mail fetched over IMAP without EMAIL_AUTHSERV_ID cannot be checked (no client address): it is
 *   unverified, and says why.
 * A verdict is one of: verified (the From domain is proven), failed (the domain's own policy says
 * the mail is forged: DMARC fail, or an SPF fail for the From domain), unverified (nothing proves
 * it either way). Only verified mail joins a thread by Message-ID; unverified mail joins only
 * through the secret reply token; failed mail never joins one.
 */
export type SenderVerdict = 'verified' | 'unverified' | 'failed';

export interface SenderCheck {
  verdict: SenderVerdict;
  /** Plain words for the agent: what was checked and what it showed. */
  reason: string;
  /** Who checked: Rapport itself, the mail server named by EMAIL_AUTHSERV_ID, or nobody. */
  by: 'rapport' | 'mail_server' | 'none';
}

export interface SmtpClient {
  /** The connecting client's IP address as the socket saw it. */
  ip: string;
  /** Its EHLO/HELO name ('' when none was given). */
  helo: string;
  /** MAIL FROM ('' for the null sender). */
  mailFrom: string;
}

export interface SenderCheckOptions {
  resolver: DnsResolver;
  /** The whole check (every DNS query and the DKIM body hash) ends within this time. */
  timeoutMs: number;
  /** The header section beyond which nothing is checked (the parser refuses it as well). */
  maxHeaderBytes?: number;
}

/** The verdict of the mail server named by EMAIL_AUTHSERV_ID, or unverified when it gave none. */
export function checkByMailServer(results: AuthResult[], authservId: string): SenderCheck {
  const top = results[0];
  const id = authservId.toLowerCase();
  if (!top) return { verdict: 'unverified', by: 'none', reason: `The message carries no Authentication-Results from ${id}, the mail server whose checks Rapport trusts.` };
  if (top.authservId !== id) {
    return { verdict: 'unverified', by: 'none', reason: `The topmost Authentication-Results is from "${top.authservId.slice(0, 100)}", not from ${id}, the mail server whose checks Rapport trusts.` };
  }
  if (top.dmarc === 'pass') return { verdict: 'verified', by: 'mail_server', reason: `${id} reported that DMARC passed.` };
  if (top.dmarc === 'fail') return { verdict: 'failed', by: 'mail_server', reason: `${id} reported that DMARC failed: the From address is probably forged.` };
  return { verdict: 'unverified', by: 'mail_server', reason: `${id} reported no DMARC pass (${top.dmarc ? `dmarc=${top.dmarc}` : 'no DMARC result'}).` };
}

/** IMAP hands over stored mail: there is no client address to check SPF against. */
export const uncheckedImapMail: SenderCheck = {
  verdict: 'unverified',
  by: 'none',
  reason: 'Fetched over IMAP, which does not show where the mail came from, so the sender could not be checked (set EMAIL_AUTHSERV_ID to trust the checks of the mail server in front of Rapport).',
};

/** An IPv4 client seen on a dual-stack socket arrives as ::ffff:a.b.c.d; SPF wants a.b.c.d. */
function plainIp(ip: string): string {
  const m = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip);
  return m ? m[1] : ip;
}

function headerBytes(raw: Buffer): number {
  const crlf = raw.indexOf('\r\n\r\n');
  const lf = raw.indexOf('\n\n');
  if (crlf < 0 && lf < 0) return raw.length;
  return crlf < 0 ? lf : lf < 0 ? crlf : Math.min(crlf, lf);
}

/**
 * Checks SPF (the client IP against MAIL FROM's domain, or HELO's for the null sender), DKIM and
 * DMARC with mailauth. Never throws and never waits past `timeoutMs`: DNS that does not answer
 * makes the mail unverified, never stuck. The DKIM body hash is CPU work (about 2.6 s and one
 * uninterrupted block for a 21 MB message, measured): the server runs this in a worker thread
 * (SenderChecker below), never on the event loop that serves the API and SMTP.
 */
export async function checkSender(raw: Buffer, client: SmtpClient, opts: SenderCheckOptions): Promise<SenderCheck> {
  if (headerBytes(raw) > (opts.maxHeaderBytes ?? 512 * 1024)) {
    return { verdict: 'unverified', by: 'rapport', reason: 'The header section is too large to check the sender.' };
  }
  const ip = plainIp(client.ip);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), opts.timeoutMs);
  });
  try {
    const result = await Promise.race([
      authenticate(raw, {
        ip,
        helo: client.helo || undefined,
        sender: client.mailFrom || undefined,
        mta: 'rapport',
        resolver: opts.resolver as never,
        // ARC would let any intermediary vouch for a failed message; BIMI is logos, not trust.
        disableArc: true,
        disableBimi: true,
      }),
      timedOut,
    ]);
    if (result === 'timeout')
      return { verdict: 'unverified', by: 'rapport', reason: `Checking the sender took longer than ${Math.round(opts.timeoutMs / 1000)} s (the sender's DNS did not answer in time).` };
    return verdictOf(result, ip);
  } catch (error) {
    return { verdict: 'unverified', by: 'rapport', reason: `The sender could not be checked (${String((error as Error).message ?? error).slice(0, 200)}).` };
  } finally {
    clearTimeout(timer);
  }
}

function spfWords(spf: AuthenticateResult['spf'], ip: string): { result: string; domain: string; text: string } {
  if (!spf) return { result: 'none', domain: '', text: 'SPF was not checked' };
  const domain = (spf.domain ?? '').toLowerCase();
  const result = spf.status?.result ?? 'none';
  switch (result) {
    case 'pass':
      return { result, domain, text: `SPF passed for ${domain}: sent from ${ip}, which the domain lists` };
    case 'fail':
      return { result, domain, text: `SPF failed for ${domain}: sent from ${ip} which the domain does not list` };
    case 'softfail':
      return { result, domain, text: `SPF soft-failed for ${domain}: sent from ${ip} which the domain does not list (but does not refuse)` };
    case 'neutral':
      return { result, domain, text: `SPF is neutral for ${domain}: it neither lists nor refuses ${ip}` };
    case 'none':
      return { result, domain, text: `${domain || 'the sender domain'} publishes no SPF record` };
    default:
      return { result, domain, text: `SPF could not be checked for ${domain} (${result})` };
  }
}

function dkimWords(results: DKIMResult[]): string {
  const signed = results.filter((r) => r.signingDomain);
  if (!signed.length) return 'no DKIM signature';
  return signed
    .slice(0, 3)
    .map((r) => (r.status.result === 'pass' ? `a DKIM signature by ${r.signingDomain} verified` : `the DKIM signature by ${r.signingDomain} did not verify (${r.status.comment || r.status.result})`))
    .join('; ');
}

function verdictOf(result: AuthenticateResult, ip: string): SenderCheck {
  const from = result.dkim.headerFrom ?? [];
  if (from.length !== 1) return { verdict: 'unverified', by: 'rapport', reason: 'The message does not have exactly one From address, so there is no sender domain to check.' };
  const fromDomain = from[0].slice(from[0].lastIndexOf('@') + 1).toLowerCase();
  const spf = spfWords(result.spf, ip);
  const dkimResults = result.dkim.results ?? [];
  const dkim = dkimWords(dkimResults);
  const alignedDkim = dkimResults.find((r) => r.status.result === 'pass' && r.status.aligned);
  const dmarc = result.dmarc ? result.dmarc.status.result : 'none';
  const details = `${spf.text}; ${dkim}.`;
  if (dmarc === 'pass') {
    const how = alignedDkim ? `a DKIM signature by ${alignedDkim.signingDomain} verified` : spf.text;
    return { verdict: 'verified', by: 'rapport', reason: `DMARC passed for ${fromDomain}: ${how}.` };
  }
  if (dmarc === 'fail') {
    return { verdict: 'failed', by: 'rapport', reason: `DMARC failed for ${fromDomain}: neither SPF nor a DKIM signature vouches for that domain. ${capitalised(details)}` };
  }
  if (dmarc === 'temperror') return { verdict: 'unverified', by: 'rapport', reason: `The DMARC policy of ${fromDomain} could not be read (DNS error). ${capitalised(details)}` };
  // No DMARC policy: the From domain is proven only by its own SPF or DKIM pass (strict alignment
  // for SPF: nothing says a parent domain speaks for a subdomain here).
  if (spf.result === 'pass' && spf.domain === fromDomain) return { verdict: 'verified', by: 'rapport', reason: `${capitalised(spf.text)}.` };
  if (alignedDkim) return { verdict: 'verified', by: 'rapport', reason: `A DKIM signature by ${alignedDkim.signingDomain} verified.` };
  if (spf.result === 'fail' && spf.domain === fromDomain) return { verdict: 'failed', by: 'rapport', reason: `${capitalised(spf.text)}.` };
  return { verdict: 'unverified', by: 'rapport', reason: `${fromDomain} publishes no DMARC policy and nothing proves the sender: ${details}` };
}

function capitalised(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** What the worker thread and the server say to each other. */
export type CheckerRequest =
  | { type: 'check'; id: number; raw: Uint8Array; client: SmtpClient; timeoutMs: number; maxHeaderBytes?: number }
  | { type: 'dns'; id: number; answer?: unknown[]; error?: { code?: string; message: string } };
export type CheckerReply = { type: 'ready' } | { type: 'result'; id: number; result: SenderCheck } | { type: 'dns'; id: number; name: string; rrtype: string };

const workerUrl = new URL('./email.authentication.worker.ts', import.meta.url).href;
// The worker is TypeScript like the rest of the code: loaded through tsx's loader, as the parser's.
const tsxApi = pathToFileURL(
  createRequire(import.meta.url)
    .resolve('tsx/esm/api')
    .replace(/index\.cjs$/, 'index.mjs'),
).href;
const bootstrap = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(workerUrl)}); })`;

/**
 * Runs checkSender in one worker thread with a heap cap. Many checks run there at once (they
 * mostly wait on DNS); the DNS queries come back to this thread, to the injected resolver, so tests
 * and the server share one resolver. Each check is answered within its time limit even if the
 * worker is busy or dies (then it is replaced): the answer is then "unverified", never a stuck SMTP
 * session.
 */
export class SenderChecker {
  private worker: Worker | null = null;
  /** Settles when the worker has loaded (its start is not counted against a check's time). */
  private ready: Promise<boolean> = Promise.resolve(false);
  private nextId = 1;
  private closed = false;
  private readonly pending = new Map<number, (result: SenderCheck) => void>();

  constructor(private readonly opts: SenderCheckOptions & { maxHeapMb?: number; startTimeoutMs?: number }) {
    this.spawn();
  }

  async check(raw: Buffer, client: SmtpClient): Promise<SenderCheck> {
    if (this.closed) return late(0);
    if (!this.worker) this.spawn();
    if (!(await this.ready) || !this.worker) return { verdict: 'unverified', by: 'rapport', reason: 'The sender checker did not start; the sender was not checked.' };
    const worker = this.worker;
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish(late(this.opts.timeoutMs)), this.opts.timeoutMs + 1_000);
      const finish = (result: SenderCheck) => {
        clearTimeout(timer);
        this.pending.delete(id);
        resolve(result);
      };
      this.pending.set(id, finish);
      const request: CheckerRequest = { type: 'check', id, raw: new Uint8Array(raw), client, timeoutMs: this.opts.timeoutMs, maxHeaderBytes: this.opts.maxHeaderBytes };
      worker.postMessage(request, [request.raw.buffer as ArrayBuffer]);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const finish of [...this.pending.values()]) finish(late(0));
    await this.worker?.terminate();
    this.worker = null;
  }

  private spawn(): Worker {
    const maxHeapMb = this.opts.maxHeapMb ?? 384;
    const worker = new Worker(bootstrap, { eval: true, resourceLimits: { maxOldGenerationSizeMb: maxHeapMb, maxYoungGenerationSizeMb: 32 } });
    worker.unref();
    this.worker = worker;
    let started: (ok: boolean) => void = () => {};
    this.ready = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), this.opts.startTimeoutMs ?? 60_000);
      started = (ok) => {
        clearTimeout(timer);
        resolve(ok);
      };
    });
    worker.on('message', (msg: CheckerReply) => {
      if (msg.type === 'ready') return started(true);
      if (msg.type === 'result') {
        this.pending.get(msg.id)?.(msg.result);
        return;
      }
      this.opts.resolver(msg.name, msg.rrtype).then(
        (answer) => worker.postMessage({ type: 'dns', id: msg.id, answer } satisfies CheckerRequest),
        (error: NodeJS.ErrnoException) => worker.postMessage({ type: 'dns', id: msg.id, error: { code: error?.code, message: String(error?.message ?? error) } } satisfies CheckerRequest),
      );
    });
    const lost = () => {
      started(false);
      if (this.worker !== worker) return;
      this.worker = null;
      for (const finish of [...this.pending.values()]) finish({ verdict: 'unverified', by: 'rapport', reason: 'Checking the sender failed (the checker ran out of memory or stopped).' });
    };
    worker.on('error', lost);
    worker.on('exit', lost);
    return worker;
  }
}

function late(timeoutMs: number): SenderCheck {
  return {
    verdict: 'unverified',
    by: 'rapport',
    reason: timeoutMs ? `Checking the sender took longer than ${Math.round(timeoutMs / 1000)} s.` : 'The server was shutting down; the sender was not checked.',
  };
}
