import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerAddress, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import { KeyedCounter } from '../../../http/connection-limits.js';
import { clientKey } from '../../../lib/net/client-address.js';
import type { Logger } from '../../../lib/logger.js';
import { ingestEmail, routeRecipient, senderCheckOf, type EmailDeps, type InboxTarget } from './email.service.js';

/**
 * Inbound SMTP (RFC 5321) for email inboxes. Recipients are checked at RCPT TO, so an unknown
 * address is refused with 550 before any data flows. The 250 after DATA is sent only once the raw
 * message, its parse and the conversation message are committed: a crash before it leaves nothing,
 * and the sender's retry is then stored once (the deduplication key absorbs a crash between the
 * commit and the 250).
 */
export interface SmtpOptions {
  host: string;
  port: number;
  /** Largest message accepted (advertised with SIZE, RFC 1870); bigger ones get 552. */
  maxMessageBytes?: number;
  maxRecipients?: number;
  /** Connections at once (smtp-server answers 421 past it). */
  maxClients?: number;
  /** Connections at once from one address (IPv6: one /64); past it 421, RFC 5321 §3.8. */
  maxClientsPerIp?: number;
  /**
   * Runs after every copy of a message is committed and before the 250 goes out: the one point where
   * a crash leaves a stored message its sender will send again. smtp.crash.test.ts kills the process
   * here to prove the retry is stored once (SECURITY E1); nothing else sets it.
   */
  afterCommit?: () => void | Promise<void>;
}

export interface SmtpListener {
  port: number;
  stop(): Promise<void>;
}

interface SmtpError extends Error {
  responseCode?: number;
}

function smtpError(code: number, text: string): SmtpError {
  const error: SmtpError = new Error(text);
  error.responseCode = code;
  return error;
}

const targetsOf = new WeakMap<SMTPServerSession, Map<string, InboxTarget>>();

/** PostgreSQL faults that the sender should retry later (RFC 3463 4.3.x), never a 5xx. */
function temporaryCode(error: unknown): SmtpError {
  const code = (error as { code?: string }).code;
  if (code === '53100' || code === '53200' || code === '25006') return smtpError(452, '4.3.1 Insufficient system storage, try again later');
  return smtpError(451, '4.3.0 Temporary failure while storing the message, try again later');
}

export async function startSmtpServer(deps: EmailDeps & { log: Logger }, opts: SmtpOptions): Promise<SmtpListener> {
  const maxBytes = opts.maxMessageBytes ?? 25 * 1024 * 1024;
  const maxRecipients = opts.maxRecipients ?? 50;
  const maxPerIp = opts.maxClientsPerIp ?? 10;
  // Sessions counted for their address; one refused in onConnect was never counted.
  const perAddress = new KeyedCounter();
  const counted = new WeakMap<SMTPServerSession, string>();
  const server = new SMTPServer({
    name: 'rapport',
    banner: 'Rapport inbound mail',
    // An inbound MX: no authentication, and no TLS certificate of its own (put it behind a relay
    // or a TLS terminator when it faces the Internet).
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    size: maxBytes,
    maxClients: opts.maxClients ?? 200,
    socketTimeout: 60_000,
    closeTimeout: 5_000,
    logger: false,
    // One sender must not hold every session (M1): 421 closes the connection, and a 4xx reply tells
    // a real MTA to queue and retry later (RFC 5321 §3.8, §4.2.5), so no mail is lost.
    onConnect(session: SMTPServerSession, callback: (err?: Error | null) => void) {
      const key = clientKey(session.remoteAddress);
      if (perAddress.get(key) >= maxPerIp) return callback(smtpError(421, '4.7.0 Too many connections from your address, try again later'));
      perAddress.add(key);
      counted.set(session, key);
      callback();
    },
    onClose(session: SMTPServerSession) {
      const key = counted.get(session);
      if (key === undefined) return;
      counted.delete(session);
      perAddress.remove(key);
    },
    onRcptTo(address: SMTPServerAddress, session: SMTPServerSession, callback: (err?: Error | null) => void) {
      const targets = targetsOf.get(session) ?? new Map<string, InboxTarget>();
      targetsOf.set(session, targets);
      if (session.envelope.rcptTo.length >= maxRecipients) return callback(smtpError(452, '4.5.3 Too many recipients'));
      routeRecipient(deps.pool, address.address)
        .then((target) => {
          if (!target) return callback(smtpError(550, '5.1.1 No such mailbox here'));
          targets.set(`${target.workspaceId}/${target.inboxId}`, target);
          callback();
        })
        .catch((error) => {
          deps.log.warn({ err: (error as Error).message }, 'smtp: recipient look-up failed');
          callback(temporaryCode(error));
        });
    },
    onData(stream: SMTPServerDataStream, session: SMTPServerSession, callback: (err?: Error | null, message?: string) => void) {
      const chunks: Buffer[] = [];
      let size = 0;
      stream.on('data', (chunk: Buffer) => {
        size += chunk.length;
        // Past the limit keep reading (the client must finish DATA) but stop keeping bytes.
        if (size <= maxBytes) chunks.push(chunk);
      });
      stream.on('error', () => {});
      stream.on('end', () => {
        if (stream.sizeExceeded || size > maxBytes) return callback(smtpError(552, '5.3.4 Message too big'));
        const targets = [...(targetsOf.get(session)?.values() ?? [])];
        const raw = Buffer.concat(chunks, size);
        const envelopeFrom = session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address;
        const envelopeTo = session.envelope.rcptTo.map((r) => r.address);
        // What SPF is checked against (issue #8 M5): the socket's peer address and the EHLO name.
        const client = { ip: session.remoteAddress, helo: session.hostNameAppearsAs ?? '', mailFrom: envelopeFrom };
        void (async () => {
          // The parse (a worker thread) and the sender check (DNS waits) run side by side, once.
          const parsing = deps.parser.parse(raw);
          const [parsed, sender] = await Promise.all([parsing, senderCheckOf(deps, { raw, client, authResults: async () => (await parsing).authResults })]);
          // One message addressed to several inboxes is stored in each (each dedups on its own).
          for (const target of targets) {
            await ingestEmail(deps, { raw, via: 'smtp', target, envelopeFrom, envelopeTo, parsed, client, sender });
          }
          await opts.afterCommit?.();
        })()
          .then(() => callback(null, '2.0.0 Message accepted'))
          .catch((error) => {
            deps.log.warn({ err: (error as Error).message, code: (error as { code?: string }).code }, 'smtp: storing a message failed');
            callback(temporaryCode(error));
          });
      });
    },
  });
  server.on('error', (error) => deps.log.warn({ err: error.message }, 'smtp server error'));
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.server.off('error', reject);
      resolve();
    });
  });
  const port = (server.server.address() as AddressInfo).port;
  deps.log.info({ port }, 'inbound SMTP is listening');
  return {
    port,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
