import nodemailer, { type SendMailOptions } from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { withSystem } from '../../../db/tenancy.js';
import type { Rapport } from '../../../server.js';
import { client, type TestWorkspace } from '../../../../test/helpers.js';
import { emailRuntimeOf } from './email.module.js';
import { markInboxOwnershipVerified } from './email.ownership.service.js';

/** Helpers shared by the email channel's tests (real sockets, real database). */
export function smtpPortOf(rapport: Rapport): number {
  return emailRuntimeOf(rapport.server).smtpPort;
}

/**
 * Creates an email inbox through the API, then marks its addresses and catch-all domains proven at
 * the service level (as an operator would), so mail routes to it; `{ verified: false }` leaves them
 * pending, as a new inbox is.
 */
export async function createEmailInbox(rapport: Rapport, ws: TestWorkspace, settings: Record<string, unknown>, name = 'Support', opts: { verified?: boolean } = {}) {
  const res = await client(rapport, ws.token, ws.workspaceId).post('/inboxes', { name, channel: 'email', settings });
  if (res.statusCode !== 201) throw new Error(`inbox not created: ${res.statusCode} ${res.body}`);
  const inbox = res.json() as { id: string; settings: Record<string, unknown> };
  if (opts.verified !== false) await markInboxOwnershipVerified(rapport.server, ws.workspaceId, inbox.id);
  return inbox;
}

/** Sends through Rapport's SMTP port with nodemailer, as a mail server would. */
export async function sendMail(port: number, mail: SendMailOptions) {
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true, connectionTimeout: 5000, socketTimeout: 30_000 });
  try {
    return await transport.sendMail({ disableFileAccess: true, disableUrlAccess: true, ...mail });
  } finally {
    transport.close();
  }
}

/** Sends a raw RFC 822 source unchanged (envelope given explicitly). */
export async function sendRaw(port: number, raw: Buffer | string, envelope: { from: string; to: string[] }) {
  return sendMail(port, { envelope, raw });
}

/** Speaks SMTP by hand (one reply awaited per line; a DATA body is one line ending in CRLF "."); returns every reply line. */
export async function smtpDialog(port: number, lines: string[]): Promise<string[]> {
  const socket = net.connect(port, '127.0.0.1');
  socket.setEncoding('utf8');
  const replies: string[] = [];
  let buffer = '';
  let waiting: (() => void) | null = null;
  socket.on('data', (d: string) => {
    buffer += d;
    for (let i = buffer.indexOf('\r\n'); i >= 0; i = buffer.indexOf('\r\n')) {
      const line = buffer.slice(0, i);
      buffer = buffer.slice(i + 2);
      replies.push(line);
      if (/^\d{3} /.test(line)) waiting?.();
    }
  });
  const next = () =>
    new Promise<void>((resolve) => {
      const count = replies.filter((l) => /^\d{3} /.test(l)).length;
      waiting = () => {
        if (replies.filter((l) => /^\d{3} /.test(l)).length > count) resolve();
      };
    });
  await next();
  for (const line of lines) {
    const done = next();
    socket.write(`${line}\r\n`);
    await done;
  }
  socket.end();
  return replies;
}

/**
 * A local SMTP server that records what it receives: the outbound "recipient" in tests (`auth`: it
 * wants that user and password, as a provider's relay does). `refuse`
 * answers RCPT with a code; `failAfterData` takes the whole message (it is recorded) and then
 * answers with a code, as a server that stored a mail but whose "250" never reached the sender.
 */
export async function startSink(opts: { refuse?: (rcpt: string) => number | null; failAfterData?: (to: string[]) => number | null; host?: string; auth?: { user: string; password: string } } = {}) {
  const received: { from: string; to: string[]; raw: string }[] = [];
  const server = new SMTPServer({
    // With `auth`, a relay that wants a sign-in (over plain text: loopback only) and refuses a wrong password with 535.
    authOptional: !opts.auth,
    allowInsecureAuth: true,
    disabledCommands: opts.auth ? ['STARTTLS'] : ['AUTH', 'STARTTLS'],
    onAuth(auth, _session, callback) {
      if (opts.auth && auth.username === opts.auth.user && auth.password === opts.auth.password) return callback(null, { user: auth.username });
      callback(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
    },
    logger: false,
    onRcptTo(address, _session, callback) {
      const code = opts.refuse?.(address.address);
      if (code) {
        const e = new Error('refused') as Error & { responseCode: number };
        e.responseCode = code;
        return callback(e);
      }
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        const code = opts.failAfterData?.(session.envelope.rcptTo.map((r) => r.address));
        if (code) {
          const e = new Error('try again') as Error & { responseCode: number };
          e.responseCode = code;
          return callback(e);
        }
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, opts.host ?? '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return { port, received, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** Rows across workspaces, for assertions only (system context). */
export async function systemQuery<T extends Record<string, unknown>>(rapport: Rapport, sql: string, params: unknown[] = []): Promise<T[]> {
  return withSystem(rapport.pool, async (tx) => (await tx.query<T>(sql, params)).rows);
}
