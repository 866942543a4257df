import type { Deps } from './modules/context.js';
import type { Runner } from 'graphile-worker';
import { loadConfig, publicUrl, type Config } from './config.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './db/embedded.js';
import { migrate } from './db/migrate.js';
import { createPool, type Pool } from './db/pool.js';
import { DELIVER_ORDERED_TASK, DELIVER_TASK, EventDispatcher, deliverOrderedTask, deliverTask } from './events/dispatcher.js';
import type { Subscriber } from './events/subscribers.js';
import { buildApp } from './http/app.js';
import { PrincipalResolver } from './http/auth.js';
import type { App } from './http/types.js';
import { prepareQueue, startWorker, type Tasks } from './jobs/queue.js';
import { PURGE_IDEMPOTENCY_TASK, purgeIdempotencyKeys } from './http/idempotency.js';
import { systemClock, type Clock } from './lib/clock.js';
import { createLogger, type Logger } from './lib/logger.js';
import { systemDns, type DnsResolver } from './lib/dns.js';
import { createOutboundGuard, type HostLookup } from './lib/outbound/outbound.guard.js';
import { LoginThrottle } from './modules/auth/login-throttle.js';
import { SearchLimiter } from './modules/conversations/conversations.search.limiter.js';
import { ChannelRegistry } from './modules/channels/channels.registry.js';
import { seedDemo } from './modules/demo/demo.seed.js';
import { registerIdentityKinds } from './modules/customers/customers.service.js';
import { coreModules, modules as defaultModules } from './modules/index.js';
import type { RapportModule } from './modules/module.js';

const LISTEN_BACKLOG = 4096;

export interface Rapport {
  app: App;
  pool: Pool;
  url: string;
  server: Deps;
  dispatcher: EventDispatcher;
  /** The embedded database, when Rapport runs its own. */
  database: EmbeddedDatabase | null;
  stop(): Promise<void>;
}

export interface StartOptions {
  log?: Logger;
  clock?: Clock;
  /** The modules beyond the core ones (default: `modules` of modules/index.ts). */
  modules?: RapportModule[];
  /** Extra subscribers (tests). */
  subscribers?: Subscriber[];
  /** Print to the console (credentials, URL). */
  print?: (line: string) => void;
  /** Run background jobs and the dispatcher in this process (default true). */
  workers?: boolean;
  /** How the outbound guard resolves host names (tests inject a fake: DNS is unreachable there). */
  outboundLookup?: HostLookup;
  /** DNS records for mail authentication (SPF, DKIM, DMARC); tests inject a recorded zone. */
  dns?: DnsResolver;
}

/**
 * Start order: config -> database -> migrations -> demo data -> app -> listeners -> workers.
 * Stop order is the reverse, and each step is bounded so Ctrl-C ends within seconds.
 */
export async function startRapport(config: Config = loadConfig(), opts: StartOptions = {}): Promise<Rapport> {
  const log = opts.log ?? createLogger(config.logLevel);
  const clock = opts.clock ?? systemClock;
  const print = opts.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  // The core domains always run; `modules` chooses the rest (tests pass none, or a probe).
  const mods = [...coreModules, ...(opts.modules ?? defaultModules)];
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const stop of stops.splice(0).reverse()) {
      await stop().catch((error) => log.warn({ err: (error as Error).message }, 'error while stopping'));
    }
  };

  try {
    let database: EmbeddedDatabase | null = null;
    let url = config.databaseUrl;
    if (!url) {
      database = await startEmbeddedPostgres({ dataDir: config.dataDir, log: (msg) => log.info(msg) });
      stops.push(() => database!.stop());
      url = database.url;
      log.info({ port: database.port, dataDir: config.dataDir }, 'embedded PostgreSQL is running');
    }
    const pool = createPool(url, { max: 30 });
    stops.push(() => pool.end());
    await migrate(pool, (msg) => log.info(msg));
    await prepareQueue(pool);
    await warnIfRlsBypassed(pool, log);

    const channels = new ChannelRegistry();
    for (const m of mods) for (const c of m.channels ?? []) channels.register(c);
    // Channels bring their identity kinds (whatsapp, telegram, ...): known to the database before any arrives.
    await registerIdentityKinds(pool, channels.identityKinds());
    const resolver = new PrincipalResolver(pool, clock);
    const server: Deps = {
      pool,
      clock,
      log,
      config,
      resolver,
      throttle: new LoginThrottle(clock),
      channels,
      outbound: createOutboundGuard({ allowedNetworks: config.outboundAllowedNetworks, lookup: opts.outboundLookup }),
      dns: opts.dns ?? systemDns(),
      searchLimiter: new SearchLimiter(clock, { perMinute: config.searchRatePerMinute, burst: config.searchRateBurst }),
    };

    if (config.seedDemo) {
      const seeded = await seedDemo(server);
      if (seeded) {
        print('');
        print('  A demo workspace was created. Sign in with:');
        print(`    email:    ${seeded.email}`);
        print(`    password: ${seeded.generated ? `${seeded.password}   (generated; shown only this once)` : '(the one in RAPPORT_ADMIN_PASSWORD)'}`);
        print('  To try the other roles, sign in with the same password as:');
        const width = Math.max(...seeded.members.map((m) => m.email.length));
        for (const m of seeded.members) print(`    ${m.email.padEnd(width)}  (${m.role.replace('_', ' ')})`);
        print('');
      }
    }

    const app = await buildApp(server, mods);
    stops.push(() => app.close());
    // A deep accept queue (Node's default is 511; Linux caps it at net.core.somaxconn): under a
    // connection flood, a full queue drops the SYNs of ordinary clients, who then wait 1, 3, 7 s for
    // their retransmits (measured in bench/connections.bench.ts); the limits refuse the flood instead.
    await app.listen({ host: config.host, port: config.port, backlog: LISTEN_BACKLOG });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const publicAddress = publicUrl(config, port);

    const subscribers = [...mods.flatMap((m) => m.subscribers?.(server) ?? []), ...(opts.subscribers ?? [])];
    const dispatcher = new EventDispatcher(pool, subscribers, log);
    if (opts.workers !== false) {
      const tasks: Tasks = {
        [DELIVER_TASK]: deliverTask(pool, subscribers, log),
        [DELIVER_ORDERED_TASK]: deliverOrderedTask(pool, subscribers, log),
        [PURGE_IDEMPOTENCY_TASK]: purgeIdempotencyKeys(pool),
      };
      for (const m of mods) Object.assign(tasks, m.tasks?.(server, mods) ?? {});
      const runner: Runner = await startWorker({
        pool,
        tasks,
        concurrency: config.workerConcurrency,
        log,
        crontab: [`0 * * * * ${PURGE_IDEMPOTENCY_TASK}`, ...mods.flatMap((m) => m.crontab ?? [])].join('\n'),
      });
      stops.push(() => runner.stop());
      await dispatcher.start();
      stops.push(() => dispatcher.stop());
    }
    for (const m of mods) {
      const started = await m.start?.(server);
      if (started) stops.push(() => started.stop());
    }

    print(`Rapport is running at ${publicAddress}  (API docs: ${publicAddress}/api/docs)`);
    if (!config.systemMailSmtpUrl) {
      print(
        '  Invitation, password reset, notification and address confirmation emails need EMAIL_VERIFICATION_SMTP_URL (your mail relay); until it is set, an invitation gives its admin a link to pass on and nobody can reset a password by email.',
      );
    }
    return { app, pool, url: publicAddress, server, dispatcher, database, stop: stopAll };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** Row-level security does not bind superusers or BYPASSRLS roles: say so when DATABASE_URL uses one. */
async function warnIfRlsBypassed(pool: Pool, log: Logger): Promise<void> {
  const { rows } = await pool.query<{ bypass: boolean }>('select rolsuper or rolbypassrls as bypass from pg_roles where rolname = current_user');
  if (rows[0]?.bypass) {
    log.warn('the database role is a superuser or has BYPASSRLS: row-level security will not back tenant isolation; use a plain role');
  }
}
