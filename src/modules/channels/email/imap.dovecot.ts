import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { chmod, chown, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ImapFlow } from 'imapflow';
import { freePort } from '../../../db/embedded.js';

/**
 * A real Dovecot (Debian's dovecot-imapd) for the IMAP tests: its own config in a temp dir, a
 * passwd-file of users with static passwords, Maildirs in the same dir, IMAP on a free loopback
 * port, no TLS. Needs root (Dovecot switches to the mail user) and the dovecot binary.
 */
export interface Dovecot {
  port: number;
  /** An IMAP client for seeding mail, as a mail server would deliver it. */
  connect(user: string, password: string): Promise<ImapFlow>;
  stop(): Promise<void>;
}

/** The one way to skip the Dovecot tests, for a machine without dovecot-imapd: say so out loud. */
export const SKIP_DOVECOT_ENV = 'RAPPORT_SKIP_DOVECOT_TESTS';

/** Why Dovecot cannot run here (not installed, or not root), or null when it can. */
export function dovecotMissing(): string | null {
  if (process.getuid?.() !== 0) return 'the Dovecot tests need root (Dovecot switches to its mail user)';
  try {
    execFileSync('dovecot', ['--version'], { stdio: 'ignore' });
    return null;
  } catch {
    return 'dovecot is not installed (apt-get install dovecot-imapd; .ci/run does it)';
  }
}

/**
 * Whether the Dovecot tests are skipped: only when Dovecot is missing AND the opt-out variable is
 * set. Missing without the opt-out, `startDovecot` fails the suite: CI that lost its Dovecot must go
 * red, not quietly report fewer tests.
 */
export function skipDovecotTests(env: NodeJS.ProcessEnv = process.env): boolean {
  return dovecotMissing() !== null && env[SKIP_DOVECOT_ENV] === '1';
}

/** `users` maps user name to password; Dovecot re-reads a passwd-file only when its mtime changes, so all are written up front. */
export async function startDovecot(users: Record<string, string>): Promise<Dovecot> {
  const missing = dovecotMissing();
  if (missing) throw new Error(`${missing}; to skip the IMAP tests on a local machine, set ${SKIP_DOVECOT_ENV}=1`);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rapport-dovecot-'));
  await chmod(dir, 0o755);
  for (const d of ['run', 'state', 'mail', 'home']) await mkdir(path.join(dir, d), { recursive: true });
  const uid = Number(execFileSync('id', ['-u', 'dovecot']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'dovecot']).toString().trim());
  await chown(path.join(dir, 'mail'), uid, gid);
  await chown(path.join(dir, 'home'), uid, gid);
  const port = await freePort();
  const usersFile = path.join(dir, 'users');
  await writeFile(
    usersFile,
    Object.entries(users)
      .map(([u, p]) => `${u}:{PLAIN}${p}\n`)
      .join(''),
  );
  const conf = path.join(dir, 'dovecot.conf');
  await writeFile(
    conf,
    `
protocols = imap
listen = 127.0.0.1
base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${dir}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:${dir}/mail/%u
first_valid_uid = 1
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${usersFile}
}
userdb {
  driver = static
  args = uid=${uid} gid=${gid} home=${dir}/home/%u
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${port}
  }
  inet_listener imaps {
    port = 0
  }
}
service stats {
  unix_listener stats-reader {
    mode = 0600
  }
  unix_listener stats-writer {
    mode = 0600
  }
}
`,
  );
  const child: ChildProcess = spawn('dovecot', ['-F', '-c', conf], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // Ready when the port answers with a greeting.
  for (let i = 0; ; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('data', (d) => {
        s.destroy();
        resolve(d.toString().startsWith('* OK'));
      });
      s.once('error', () => resolve(false));
    });
    if (ok) break;
    if (i > 100) throw new Error(`dovecot did not start; see ${dir}/dovecot.log`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    async connect(user, password) {
      const c = new ImapFlow({ host: '127.0.0.1', port, secure: false, doSTARTTLS: false, auth: { user, pass: password }, logger: false });
      await c.connect();
      return c;
    },
    async stop() {
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A TCP proxy in front of Dovecot that can cut connections: after `cutAfterBytes` bytes from the
 * server, the next `cuts` connections are destroyed mid-stream (a disconnect mid-FETCH, E13).
 */
export async function startCuttingProxy(targetPort: number) {
  const state = { cuts: 0, cutAfterBytes: Infinity, connections: 0, cutsDone: 0 };
  const server = net.createServer((client) => {
    state.connections++;
    const upstream = net.connect(targetPort, '127.0.0.1');
    const cutThis = state.cuts > 0;
    if (cutThis) state.cuts--;
    let bytes = 0;
    upstream.on('data', (d) => {
      bytes += d.length;
      if (cutThis && bytes > state.cutAfterBytes) {
        if (!client.destroyed) state.cutsDone++;
        client.destroy();
        upstream.destroy();
        return;
      }
      client.write(d);
    });
    client.on('data', (d) => upstream.write(d));
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as net.AddressInfo).port, state, close: () => new Promise<void>((r) => server.close(() => r())) };
}
