import type { Deps } from '../../context.js';
import { withTimeout } from '../../../lib/dns.js';
import { parse, readSetting } from '../../../lib/settings.js';
import type { RapportModule } from '../../module.js';
import { emailChannel } from './email.channel.js';
import { autoAckTask, emailOutbound, legacyOutboundSubscriber, SEND_TASK } from './email.outbound.js';
import { EmailParser } from './email.parser.js';
import { SenderChecker } from './email.authentication.js';
import { emailRoutes } from './email.routes.js';
import { connectionTestRoutes } from './email.connection-test.routes.js';
import { loadAttachmentOptions, type AttachmentOptions } from '../../attachments/attachments.settings.js';
import { isPublicMailDomain } from './email.addresses.js';
import { confirmationRoutes, ownershipRoutes, type OwnershipRouteOptions } from './email.ownership.routes.js';
import { createSystemMailer, defaultSystemFrom, systemMailSettings } from '../../../lib/system-mail.js';
import { AUTOACK_TASK, emailAttachmentOwners } from './email.service.js';
import { ImapPoller } from './imap.poller.js';
import { startSmtpServer, type SmtpListener } from './smtp.server.js';
import { sendTask } from './email.outbound.js';

/** The email channel's own settings (SMTP_PORT is read by config.ts as `smtpPort`). */
export const emailSettings = {
  maxMessageBytes: { env: 'EMAIL_MAX_MESSAGE_BYTES', description: 'largest inbound email accepted (SMTP SIZE, IMAP)', default: 25 * 1024 * 1024, parse: parse.positiveInt },
  parserWorkers: { env: 'EMAIL_PARSER_WORKERS', description: 'worker threads that parse email', default: 2, parse: parse.positiveInt },
  parseTimeoutMs: { env: 'EMAIL_PARSE_TIMEOUT_MS', description: 'time limit for parsing one email', default: 20_000, parse: parse.positiveInt },
  imapPollMs: { env: 'EMAIL_IMAP_POLL_MS', description: 'how often IMAP mailboxes are polled', default: 60_000, parse: parse.positiveInt },
  imapLeaseMs: {
    env: 'EMAIL_IMAP_LEASE_MS',
    description: "how long an instance holds an IMAP mailbox without renewing it; a dead instance's mailboxes are taken over after this",
    default: 60_000,
    parse: parse.positiveInt,
  },
  imapConcurrency: { env: 'EMAIL_IMAP_CONCURRENCY', description: 'IMAP mailboxes polled at once', default: 16, parse: parse.positiveInt },
  smtpTimeoutMs: { env: 'EMAIL_SMTP_TIMEOUT_MS', description: 'outbound SMTP connection timeout', default: 30_000, parse: parse.positiveInt },
  retryBaseMs: {
    env: 'EMAIL_RETRY_BASE_MS',
    // 30 s doubling over 8 attempts spans about an hour: greylisting and a 15-minute outage of the
    // receiving server are outlasted before the reply is failed (the core's 5 s would give up in ~10 min).
    description: 'wait before the second attempt at a reply the mail server refused for now (doubles each attempt, 8 attempts)',
    default: 30_000,
    parse: parse.positiveInt,
  },
  connectionTestsPerHour: {
    env: 'EMAIL_CONNECTION_TESTS_PER_HOUR',
    // Each test mails an address the admin types, or signs in to a server: paced so a workspace cannot
    // use Rapport to flood an address (E12) or to guess a mail server's passwords from its address.
    description: '"Send a test" and "Test connection" runs one workspace may make per hour (a third of them at once)',
    default: 30,
    parse: parse.positiveInt,
  },
  maxUploadBytes: { env: 'EMAIL_MAX_UPLOAD_BYTES', description: 'largest file an agent can upload to attach to a reply', default: 10 * 1024 * 1024, parse: parse.positiveInt },
  noticesPerRecipientPerDay: { env: 'EMAIL_NOTICES_PER_RECIPIENT_PER_DAY', description: 'automatic notices (acknowledgements) one address gets per day', default: 3, parse: parse.positiveInt },
  noticesPerWorkspacePerHour: { env: 'EMAIL_NOTICES_PER_WORKSPACE_PER_HOUR', description: 'automatic notices one workspace sends per hour', default: 500, parse: parse.positiveInt },
  authservId: {
    env: 'EMAIL_AUTHSERV_ID',
    description: 'authserv-id of the mail server in front of Rapport whose Authentication-Results are trusted (unset: Rapport checks SPF, DKIM and DMARC itself)',
    default: null as string | null,
    parse: (raw: string): string | null => raw.trim().toLowerCase() || null,
  },
  authTimeoutMs: {
    env: 'EMAIL_AUTH_TIMEOUT_MS',
    description: "time limit for checking one inbound email's sender (SPF, DKIM, DMARC); past it the email is unverified",
    default: 10_000,
    parse: parse.positiveInt,
  },
  dnsTimeoutMs: { env: 'EMAIL_DNS_TIMEOUT_MS', description: 'time limit for one DNS query of that check', default: 3_000, parse: parse.positiveInt },
  // The operator's relay, shared with password reset mail (src/lib/system-mail.ts declares it once).
  verificationSmtpUrl: systemMailSettings.systemMailSmtpUrl,
  verificationFrom: systemMailSettings.systemMailFrom,
  confirmationTtlHours: { env: 'EMAIL_CONFIRMATION_TTL_HOURS', description: 'how long an address confirmation link works', default: 24, parse: parse.positiveInt },
  confirmationsPerAddressPerDay: {
    env: 'EMAIL_CONFIRMATIONS_PER_ADDRESS_PER_DAY',
    description: 'confirmation emails one address gets per day, from all workspaces together',
    default: 5,
    parse: parse.positiveInt,
  },
};

export type EmailModuleOptions = { [K in keyof typeof emailSettings]: ReturnType<(typeof emailSettings)[K]['parse']> };

export function loadEmailOptions(env: NodeJS.ProcessEnv = process.env, overrides: Partial<EmailModuleOptions> = {}): EmailModuleOptions {
  const out = {} as EmailModuleOptions;
  for (const [key, spec] of Object.entries(emailSettings)) (out as Record<string, unknown>)[key] = readSetting<unknown>(spec, env);
  return { ...out, ...overrides };
}

/** What the running channel exposes (tests and benchmarks read the bound SMTP port here). */
export interface EmailRuntime {
  smtpPort: number;
  parser: EmailParser;
  poller: ImapPoller;
}

const runtimes = new WeakMap<Deps, EmailRuntime>();

export function emailRuntimeOf(server: Deps): EmailRuntime {
  const runtime = runtimes.get(server);
  if (!runtime) throw new Error('the email module is not running on this server');
  return runtime;
}

/** Address proofs (SECURITY H2): the relay for confirmation links, their lifetime and throttle. */
function ownershipOptions(o: EmailModuleOptions): OwnershipRouteOptions {
  return {
    mailer: (publicUrl) => (o.verificationSmtpUrl ? createSystemMailer({ url: o.verificationSmtpUrl, from: o.verificationFrom ?? defaultSystemFrom(publicUrl), timeoutMs: o.smtpTimeoutMs }) : null),
    ttlMs: o.confirmationTtlHours * 3_600_000,
    perAddressPerDay: o.confirmationsPerAddressPerDay,
  };
}

/** `attachments`: the attachments module's limits as replies apply them (tests lower them). */
export function createEmailModule(overrides: Partial<EmailModuleOptions> = {}, attachments: Partial<AttachmentOptions> = {}): RapportModule {
  const opts = () => loadEmailOptions(process.env, overrides);
  return {
    name: 'email',
    // Replies leave through the channel core's one outbound job; this adapter builds and sends the mail.
    channels: [{ ...emailChannel, outbound: emailOutbound(() => ({ smtpTimeoutMs: opts().smtpTimeoutMs, retryBaseMs: opts().retryBaseMs })) }],
    workspaceRoutes: (app, server) => {
      emailRoutes(app, server, { maxUploadBytes: opts().maxUploadBytes, attachmentLimits: loadAttachmentOptions(process.env, attachments) });
      ownershipRoutes(app, server, ownershipOptions(opts()));
      connectionTestRoutes(app, server, {
        timeoutMs: Math.min(opts().smtpTimeoutMs, 15_000),
        smtpPort: () => runtimes.get(server)?.smtpPort ?? server.config.smtpPort,
        imapPollSeconds: Math.round(opts().imapPollMs / 1000),
        testsPerHour: opts().connectionTestsPerHour,
      });
    },
    plugins: (app, server) => confirmationRoutes(app, server),
    subscribers: (server) => [legacyOutboundSubscriber(server)],
    attachmentOwners: emailAttachmentOwners,
    tasks: (server) => {
      const o = opts();
      const d = {
        pool: server.pool,
        clock: server.clock,
        log: server.log,
        outbound: server.outbound,
        channels: server.channels,
        smtpTimeoutMs: o.smtpTimeoutMs,
        noticeLimits: { perRecipientPerDay: o.noticesPerRecipientPerDay, perWorkspacePerHour: o.noticesPerWorkspacePerHour },
      };
      return { [SEND_TASK]: sendTask(d), [AUTOACK_TASK]: autoAckTask(d) };
    },
    async start(server) {
      const o = opts();
      isPublicMailDomain('rapport.invalid');
      const parser = new EmailParser({ workers: o.parserWorkers, timeoutMs: o.parseTimeoutMs });
      // Rapport checks senders itself only when no mail server in front does it (EMAIL_AUTHSERV_ID).
      const senderChecker = o.authservId ? undefined : new SenderChecker({ resolver: withTimeout(server.dns, o.dnsTimeoutMs), timeoutMs: o.authTimeoutMs });
      const deps = { pool: server.pool, clock: server.clock, log: server.log, parser, authservId: o.authservId, senderChecker };
      let smtp: SmtpListener;
      try {
        smtp = await startSmtpServer(deps, {
          host: server.config.host,
          port: server.config.smtpPort,
          maxMessageBytes: o.maxMessageBytes,
          maxClients: server.config.smtpMaxConnections,
          maxClientsPerIp: server.config.smtpMaxConnectionsPerIp,
        });
      } catch (error) {
        await parser.close();
        await senderChecker?.close();
        throw new Error(`inbound SMTP could not listen on ${server.config.host}:${server.config.smtpPort} (${(error as Error).message}); set SMTP_PORT to a free port`);
      }
      const poller = new ImapPoller(deps, {
        outbound: server.outbound,
        intervalMs: o.imapPollMs,
        concurrency: o.imapConcurrency,
        maxMessageBytes: o.maxMessageBytes,
        timeoutMs: 15_000,
        batch: 200,
        maxAttempts: 3,
        leaseMs: o.imapLeaseMs,
      });
      poller.start();
      runtimes.set(server, { smtpPort: smtp.port, parser, poller });
      return {
        stop: async () => {
          await poller.stop();
          await smtp.stop();
          await parser.close();
          await senderChecker?.close();
          runtimes.delete(server);
        },
      };
    },
  };
}

export const emailModule = createEmailModule();
