/**
 * Test fixture for SECURITY E1: only the inbound SMTP ingest (parser, SMTP listener, database
 * pool) in a process of its own, so a test can kill it with SIGKILL at any moment. Prints
 * "PORT <n>" once it listens. DATABASE_URL names the database to store into; E1_KILL_AFTER_COMMIT=1
 * makes it SIGKILL itself once a message is committed, before its 250 (the deterministic E1 case).
 */
import { createPool } from '../../../db/pool.js';
import { systemClock } from '../../../lib/clock.js';
import { createLogger } from '../../../lib/logger.js';
import { EmailParser } from './email.parser.js';
import { startSmtpServer } from './smtp.server.js';

const pool = createPool(process.env.DATABASE_URL!, { max: 4 });
const parser = new EmailParser({ workers: 1 });
const smtp = await startSmtpServer(
  { pool, clock: systemClock, log: createLogger('silent'), parser },
  {
    host: '127.0.0.1',
    port: 0,
    afterCommit: process.env.E1_KILL_AFTER_COMMIT === '1' ? () => void process.kill(process.pid, 'SIGKILL') : undefined,
  },
);
process.stdout.write(`PORT ${smtp.port}\n`);
