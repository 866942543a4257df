import path from 'node:path';
import { parse, readSetting, type SettingSpec } from './lib/settings.js';
import { edgeSettings } from './http/edge.settings.js';
import { authSettings } from './modules/auth/auth.settings.js';
import { outboundSettings } from './lib/outbound/outbound.settings.js';
import { searchSettings } from './modules/conversations/conversations.search.settings.js';
import { systemMailSettings } from './lib/system-mail.js';
import { realtimeSettings } from './modules/realtime/realtime.settings.js';

/** Every setting Rapport reads from the environment, read once at start. */
export const settings = {
  host: { env: 'HOST', description: 'address the HTTP server listens on', default: '127.0.0.1', parse: parse.string },
  port: { env: 'PORT', description: 'HTTP port', default: 3000, parse: parse.port },
  dataDir: { env: 'DATA_DIR', description: 'where the embedded PostgreSQL keeps its data', default: './data', parse: parse.string },
  databaseUrl: {
    env: 'DATABASE_URL',
    description: 'an external PostgreSQL; when unset Rapport runs an embedded one under DATA_DIR',
    default: undefined as string | undefined,
    parse: parse.optionalString,
  },
  publicUrl: {
    env: 'PUBLIC_URL',
    description: 'the URL people open (defaults to http://HOST:PORT)',
    default: undefined as string | undefined,
    parse: parse.optionalString,
  },
  adminEmail: {
    env: 'RAPPORT_ADMIN_EMAIL',
    description: 'email of the owner account created on first start',
    default: 'admin@rapport.local',
    parse: parse.string,
  },
  adminPassword: {
    env: 'RAPPORT_ADMIN_PASSWORD',
    description: 'password of the owner account created on first start (generated and printed when unset)',
    default: undefined as string | undefined,
    parse: parse.optionalString,
  },
  seedDemo: { env: 'RAPPORT_DEMO', description: 'create the demo workspace on an empty database', default: true, parse: parse.boolean },
  logLevel: { env: 'LOG_LEVEL', description: 'pino log level', default: 'info', parse: parse.string },
  secureCookies: {
    env: 'SECURE_COOKIES',
    description: 'mark session cookies Secure (defaults to on when PUBLIC_URL is https://)',
    default: false,
    parse: parse.boolean,
  },
  sessionHours: { env: 'SESSION_HOURS', description: 'how long a browser session lasts', default: 12, parse: parse.positiveInt },
  workerConcurrency: {
    env: 'WORKER_CONCURRENCY',
    description: 'background jobs run at once by this instance',
    default: 4,
    parse: parse.positiveInt,
  },
  smtpPort: { env: 'SMTP_PORT', description: 'inbound SMTP port', default: 2525, parse: parse.port },
  idempotencySecret: {
    env: 'IDEMPOTENCY_SECRET',
    description:
      'key (32+ characters) of the HMAC that fingerprints Idempotency-Key requests; unset: generated once and kept in DATA_DIR/idempotency-secret (set the same value on every instance that shares a database)',
    default: undefined as string | undefined,
    parse: (raw: string): string | undefined => {
      if (raw.length < 32) throw new Error('must be at least 32 characters');
      return raw;
    },
  },
  ...edgeSettings,
  ...authSettings,
  ...outboundSettings,
  ...searchSettings,
  ...systemMailSettings,
  ...realtimeSettings,
} satisfies Record<string, SettingSpec<unknown>>;

type Settings = typeof settings;
export type Config = { [K in keyof Settings]: Settings[K]['default'] | ReturnType<Settings[K]['parse']> };

export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const config = {} as Record<string, unknown>;
  for (const [key, spec] of Object.entries(settings)) {
    config[key] = readSetting(spec as SettingSpec<unknown>, env);
  }
  const result = { ...(config as Config), ...overrides };
  // A site served over HTTPS gets Secure cookies unless SECURE_COOKIES says otherwise (I1).
  if (overrides.secureCookies === undefined && !env.SECURE_COOKIES) result.secureCookies = /^https:/i.test(result.publicUrl ?? '');
  result.dataDir = path.resolve(result.dataDir);
  return result;
}

export function publicUrl(config: Config, port = config.port): string {
  if (config.publicUrl) return config.publicUrl.replace(/\/$/, '');
  const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}
