import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import os from 'node:os';
import { ImapFlow } from 'imapflow';
import { isDatabaseUnavailable } from '../../../db/errors.js';
import { withSystem, withWorkspace } from '../../../db/tenancy.js';
import type { OutboundGuard } from '../../../lib/outbound/outbound.guard.js';
import type { EmailInboxSettings, ImapSettings } from './email.channel.js';
import { emailRepository as repo } from './email.repository.js';
import { ingestEmail, type EmailDeps, type InboxTarget } from './email.service.js';
import { imapLeaseRepository as leases, type ClaimedMailbox } from './imap.repository.js';

/**
 * Polls the IMAP accounts of email inboxes. Position is kept per inbox as (UIDVALIDITY, last UID):
 * new mail is fetched by UID, a UIDVALIDITY change starts over from UID 1 (deduplication absorbs
 * the re-fetch, SECURITY E2), and \Seen or a move happens only after the database commit (E13).
 * Mailboxes are polled concurrently by a bounded pool; each message is fetched on its own, so one
 * huge or broken message costs its own time only.
 *
 * Several instances share the database, and each mailbox is polled by one of them per interval
 * (issue #9): an instance claims a due mailbox through a lease row (`email_imap_leases`, 0150), renews
 * its leases while it works, and on finishing frees the lease and makes the mailbox due one interval
 * later. An instance that stops frees its leases; one that dies stops renewing, and its mailboxes are
 * taken over once their leases expire. A lease rather than graphile-worker keyed jobs: a job locked by
 * a dead worker stays locked for hours, and a poll must not take a job slot from mail delivery.
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
  /** How long a claimed mailbox stays held unrenewed (renewed every third of it): a dead instance's mailboxes wait this long. */
  leaseMs: number;
  /** How often this instance looks for due mailboxes (default: the poll interval, at most 5 s). */
  scanMs?: number;
}

/** Emitted when this instance starts (`poll`) and ends (`polled`) a poll of a mailbox it holds: tests count them across instances. */
export interface ImapPollStarted {
  workspaceId: string;
  inboxId: string;
  holder: string;
  at: Date;
}

export class ImapPoller extends EventEmitter<{ poll: [ImapPollStarted]; polled: [ImapPollStarted] }> {
  /** Names this instance in `email_imap_leases.holder` (host and pid for an operator reading the table). */
  readonly holder = `${os.hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`;
  private timer: NodeJS.Timeout | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;
  /** Mailboxes (`workspace/inbox`) this instance holds a lease on right now. */
  private readonly held = new Set<string>();
  /**
   * Failed attempts per (inbox, UIDVALIDITY, UID); kept in memory, so a restart tries again (and with
   * several instances each counts its own, so a poison message costs at most maxAttempts per instance).
   */
  private readonly failures = new Map<string, number>();
  /** Completed passes (tests wait on it). */
  passes = 0;

  constructor(
    private readonly deps: EmailDeps,
    private readonly opts: ImapPollerOptions,
  ) {
    super();
  }

  start(): void {
    const scanMs = this.opts.scanMs ?? Math.min(this.opts.intervalMs, 5_000);
    const tick = () => {
      if (this.stopped) return;
      this.running = this.pollAll()
        .catch((error) => this.deps.log.warn({ err: (error as Error).message }, 'imap: poll pass failed'))
        .finally(() => {
          this.running = null;
          this.passes++;
          if (!this.stopped) this.timer = setTimeout(tick, scanMs);
        });
    };
    this.timer = setTimeout(tick, 0);
    this.heartbeat = setInterval(() => void this.renew(), Math.max(1, Math.floor(this.opts.leaseMs / 3)));
  }

  /** Finishes the polls under way (cut short after the message in hand) and frees their leases. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
    if (this.heartbeat) clearInterval(this.heartbeat);
  }

  /**
   * Claims as many due mailboxes as there are free places in the pool (one query for them all) and
   * polls them, claiming more as places free up, until none is due.
   */
  async pollAll(): Promise<void> {
    const active = new Set<Promise<void>>();
    while (!this.stopped) {
      const free = this.opts.concurrency - active.size;
      if (free <= 0) {
        await Promise.race(active);
        continue;
      }
      // Lease times are the database's (imap.repository.ts): instances' clocks may disagree.
      const claimed = await withSystem(this.deps.pool, (tx) => leases.claimDue(tx, this.holder, this.opts.leaseMs, free));
      for (const mailbox of claimed) {
        const polling: Promise<void> = this.pollClaimed(mailbox).finally(() => active.delete(polling));
        active.add(polling);
      }
      if (claimed.length < free) break;
    }
    await Promise.all(active);
  }

  private async pollClaimed(claimed: ClaimedMailbox): Promise<void> {
    const target: InboxTarget = { workspaceId: claimed.workspace_id, inboxId: claimed.inbox_id, settings: claimed.settings as unknown as EmailInboxSettings };
    const key = `${target.workspaceId}/${target.inboxId}`;
    this.held.add(key);
    try {
      this.emit('poll', { workspaceId: target.workspaceId, inboxId: target.inboxId, holder: this.holder, at: this.deps.clock.now() });
      await this.pollInbox(target, () => !this.stopped && this.held.has(key));
    } catch (error) {
      this.deps.log.warn({ inboxId: target.inboxId, err: (error as Error).message }, 'imap: mailbox poll failed');
    } finally {
      const lost = !this.held.delete(key);
      const done = this.deps.clock.now();
      // A poll cut short by a stop is due again at once, so another instance carries on from there.
      const next = this.stopped ? 0 : this.opts.intervalMs;
      const released = lost
        ? false
        : await withSystem(this.deps.pool, (tx) => leases.release(tx, this.holder, target.workspaceId, target.inboxId, next)).catch((error) => {
            // The lease then expires on its own and the mailbox is taken up again.
            this.deps.log.warn({ inboxId: target.inboxId, err: (error as Error).message }, 'imap: freeing a mailbox lease failed');
            return true;
          });
      if (!released) this.deps.log.warn({ inboxId: target.inboxId }, 'imap: the mailbox lease was lost while polling (another instance took it over)');
      this.emit('polled', { workspaceId: target.workspaceId, inboxId: target.inboxId, holder: this.holder, at: done });
    }
  }

  /** Extends the leases held; a mailbox whose lease another instance took over is dropped after its message in hand. */
  private async renew(): Promise<void> {
    if (this.held.size === 0) return;
    // Only mailboxes held before the UPDATE can be judged by it: one claimed meanwhile is not in its answer.
    const before = [...this.held];
    try {
      const still = new Set(
        (
          await withSystem(this.deps.pool, (tx) =>
            leases.renew(
              tx,
              this.holder,
              this.opts.leaseMs,
              before.map((key) => {
                const [workspaceId, inboxId] = key.split('/');
                return { workspaceId, inboxId };
              }),
            ),
          )
        ).map((r) => `${r.workspace_id}/${r.inbox_id}`),
      );
      for (const key of before) if (!still.has(key)) this.held.delete(key);
    } catch (error) {
      this.deps.log.warn({ err: (error as Error).message }, 'imap: renewing mailbox leases failed');
    }
  }

  /** Polls one mailbox; `holding` says whether to go on (this instance runs and still holds the lease), checked before each message. */
  async pollInbox(target: InboxTarget, holding: () => boolean = () => true): Promise<{ fetched: number }> {
    const imap = target.settings.imap as ImapSettings;
    // Resolved and checked on every pass (not cached), so a DNS answer that changes is checked too.
    const client = await pinnedImapClient(this.opts.outbound, imap, this.opts.timeoutMs, this.opts.timeoutMs * 3);
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
          await withWorkspace(this.deps.pool, target.workspaceId, (tx) => repo.saveImapState(tx, target.workspaceId, target.inboxId, uidValidity, 0, this.deps.clock.now()));
        }
        // Sizes first (small), then each source on its own.
        const pending: { uid: number; size: number }[] = [];
        for await (const m of client.fetch(`${lastUid + 1}:*`, { uid: true, size: true }, { uid: true })) {
          // "n:*" also returns the highest message when it is below n (RFC 3501 §6.4.8).
          if (m.uid > lastUid) pending.push({ uid: m.uid, size: m.size ?? 0 });
        }
        pending.sort((a, b) => a.uid - b.uid);
        for (const { uid, size } of pending.slice(0, this.opts.batch)) {
          if (!holding()) break;
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
    await withWorkspace(this.deps.pool, target.workspaceId, (tx) => repo.saveImapState(tx, target.workspaceId, target.inboxId, uidValidity, uid, this.deps.clock.now(), error));
  }
}

/**
 * An IMAP client for a mailbox's settings, not yet connected: the host goes through the outbound guard
 * and ImapFlow gets the checked IP, so a DNS answer that changes after the check (rebinding) is never
 * used; TLS still verifies the certificate against the name. Used by the poller and "Test connection".
 */
export async function pinnedImapClient(outbound: Pick<OutboundGuard, 'pin'>, imap: ImapSettings, timeoutMs: number, socketTimeoutMs: number): Promise<ImapFlow> {
  const pinned = await outbound.pin(imap.host);
  const client = new ImapFlow({
    host: pinned.address,
    servername: pinned.servername,
    port: imap.port,
    secure: imap.tls === 'implicit',
    doSTARTTLS: imap.tls === 'starttls' ? true : imap.tls === 'none' ? false : undefined,
    auth: { user: imap.user, pass: imap.password },
    logger: false,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: socketTimeoutMs,
    disableAutoIdle: true,
  });
  client.on('error', () => {});
  return client;
}
