import { ImapFlow } from 'imapflow';
import { isDatabaseUnavailable } from '../../../db/errors.js';
import { withSystem, withWorkspace } from '../../../db/tenancy.js';
import type { OutboundGuard } from '../../../lib/outbound/outbound.guard.js';
import type { EmailInboxSettings, ImapSettings } from './email.channel.js';
import { emailRepository as repo } from './email.repository.js';
import { ingestEmail, type EmailDeps, type InboxTarget } from './email.service.js';

/**
 * Polls the IMAP accounts of email inboxes. Position is kept per inbox as (UIDVALIDITY, last UID):
 * new mail is fetched by UID, a UIDVALIDITY change starts over from UID 1 (deduplication absorbs
 * the re-fetch, SECURITY E2), and \Seen or a move happens only after the database commit (E13).
 * Mailboxes are polled concurrently by a bounded pool; each message is fetched on its own, so one
 * huge or broken message costs its own time only.
 */
export interface ImapPollerOptions {
  /** Checks and pins each mailbox's host before connecting (SECURITY M4). */
  outbound: OutboundGuard;
  intervalMs: number;
  concurrency: number;
  maxMessageBytes: number;
  timeoutMs: number;
  /** Messages taken from one mailbox per pass, so a 100k backlog does not starve other inboxes. */
  batch: number;
  /** Passes a message that fails to store (other than the database being unavailable) is tried. */
  maxAttempts: number;
}

export class ImapPoller {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;
  /** Failed attempts per (inbox, UIDVALIDITY, UID); kept in memory, so a restart tries again. */
  private readonly failures = new Map<string, number>();
  /** Completed passes (tests wait on it). */
  passes = 0;

  constructor(
    private readonly deps: EmailDeps,
    private readonly opts: ImapPollerOptions,
  ) {}

  start(): void {
    const tick = () => {
      if (this.stopped) return;
      this.running = this.pollAll()
        .catch((error) => this.deps.log.warn({ err: (error as Error).message }, 'imap: poll pass failed'))
        .finally(() => {
          this.running = null;
          this.passes++;
          if (!this.stopped) this.timer = setTimeout(tick, this.opts.intervalMs);
        });
    };
    this.timer = setTimeout(tick, 0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  async pollAll(): Promise<void> {
    const inboxes = await withSystem(this.deps.pool, (tx) => repo.imapInboxes(tx));
    const queue = inboxes.map((r) => ({ workspaceId: r.workspace_id, inboxId: r.id, settings: r.settings as unknown as EmailInboxSettings }));
    const worker = async () => {
      for (let next = queue.shift(); next && !this.stopped; next = queue.shift()) {
        await this.pollInbox(next).catch(async (error) => {
          this.deps.log.warn({ inboxId: next!.inboxId, err: (error as Error).message }, 'imap: mailbox poll failed');
        });
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.opts.concurrency, queue.length) }, worker));
  }

  async pollInbox(target: InboxTarget): Promise<{ fetched: number }> {
    const imap = target.settings.imap as ImapSettings;
    // Resolved and checked on every pass; ImapFlow gets the checked IP, so a DNS answer that changes
    // after the check (rebinding) is never used. TLS still verifies the certificate against the name.
    const pinned = await this.opts.outbound.pin(imap.host);
    const client = new ImapFlow({
      host: pinned.address,
      servername: pinned.servername,
      port: imap.port,
      secure: imap.tls === 'implicit',
      doSTARTTLS: imap.tls === 'starttls' ? true : imap.tls === 'none' ? false : undefined,
      auth: { user: imap.user, pass: imap.password },
      logger: false,
      connectionTimeout: this.opts.timeoutMs,
      greetingTimeout: this.opts.timeoutMs,
      socketTimeout: this.opts.timeoutMs * 3,
      disableAutoIdle: true,
    });
    client.on('error', () => {});
    await client.connect();
    let fetched = 0;
    try {
      const lock = await client.getMailboxLock(imap.mailbox);
      try {
        const mailbox = client.mailbox;
        if (!mailbox) return { fetched };
        const uidValidity = BigInt(mailbox.uidValidity);
        const state = await withWorkspace(this.deps.pool, target.workspaceId, (tx) => repo.imapState(tx, target.workspaceId, target.inboxId));
        const lastUid = state && state.uidValidity === uidValidity ? state.lastUid : 0;
        if (!state || state.uidValidity !== uidValidity) {
          await withWorkspace(this.deps.pool, target.workspaceId, (tx) =>
            repo.saveImapState(tx, target.workspaceId, target.inboxId, uidValidity, 0, this.deps.clock.now()));
        }
        // Sizes first (small), then each source on its own.
        const pending: { uid: number; size: number }[] = [];
        for await (const m of client.fetch(`${lastUid + 1}:*`, { uid: true, size: true }, { uid: true })) {
          // "n:*" also returns the highest message when it is below n (RFC 3501 §6.4.8).
          if (m.uid > lastUid) pending.push({ uid: m.uid, size: m.size ?? 0 });
        }
        pending.sort((a, b) => a.uid - b.uid);
        for (const { uid, size } of pending.slice(0, this.opts.batch)) {
          if (this.stopped) break;
          if (size > this.opts.maxMessageBytes) {
            // Too big to take: skip it (left unread in the mailbox for a person to see) and move on.
            this.deps.log.warn({ inboxId: target.inboxId, uid, size }, 'imap: message over the size limit left in the mailbox');
            await this.advance(target, uidValidity, uid, `message ${uid} is over the size limit`);
            continue;
          }
          const m = await client.fetchOne(String(uid), { uid: true, source: true }, { uid: true });
          if (!m || !m.source) {
            // Expunged between the listing and the fetch (E13): nothing to store.
            await this.advance(target, uidValidity, uid, null);
            continue;
          }
          const failure = `${target.inboxId}/${uidValidity}/${uid}`;
          try {
            await ingestEmail(this.deps, { raw: m.source, via: 'imap', target, envelopeFrom: null, envelopeTo: [] });
          } catch (error) {
            // A database that cannot serve now: try this message again on the next pass.
            if (isDatabaseUnavailable(error)) throw error;
            // Anything else that fails the same message again and again must not hold up the
            // mailbox behind it: after a few passes it is left unread on the server for a person.
            const attempts = (this.failures.get(failure) ?? 0) + 1;
            this.failures.set(failure, attempts);
            if (attempts < this.opts.maxAttempts) throw error;
            this.failures.delete(failure);
            this.deps.log.warn({ inboxId: target.inboxId, uid, attempts, err: (error as Error).message }, 'imap: message could not be stored; left unread in the mailbox');
            await this.advance(target, uidValidity, uid, `message ${uid} could not be stored after ${attempts} attempts`);
            continue;
          }
          this.failures.delete(failure);
          await this.advance(target, uidValidity, uid, null);
          // Only now, after the commit, does the message change on the server.
          if (imap.afterFetch === 'move' && imap.moveTo) await client.messageMove(String(uid), imap.moveTo, { uid: true });
          else await client.messageFlagsAdd(String(uid), ['\\Seen'], { uid: true });
          fetched++;
        }
      } finally {
        lock.release();
      }
    } finally {
      await client.logout().catch(() => client.close());
    }
    return { fetched };
  }

  private async advance(target: InboxTarget, uidValidity: bigint, uid: number, error: string | null): Promise<void> {
    await withWorkspace(this.deps.pool, target.workspaceId, (tx) =>
      repo.saveImapState(tx, target.workspaceId, target.inboxId, uidValidity, uid, this.deps.clock.now(), error));
  }
}
