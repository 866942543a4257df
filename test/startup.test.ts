import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../src/db/embedded.js';

/**
 * The new user's path: `npm start` on a fresh DATA_DIR (here below a mode-700 directory, like a clone
 * under /root), sign in with the printed credentials, Ctrl-C, start again, and survive a SIGKILL.
 */
const root = process.cwd();
const children: ChildProcess[] = [];
let parent = '';

interface Started {
  child: ChildProcess;
  url: string;
  output: () => string;
}

async function start(dataDir: string, port: number, smtpPort: number): Promise<Started> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    env: { ...process.env, DATA_DIR: dataDir, PORT: String(port), SMTP_PORT: String(smtpPort), HOST: '127.0.0.1', LOG_LEVEL: 'warn', RAPPORT_ADMIN_PASSWORD: '', DATABASE_URL: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start within 60 s:\n${out}`)), 60_000);
    const check = () => {
      const m = /Rapport is running at (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout!.on('data', check);
    child.on('exit', (code) => reject(new Error(`exited with ${code} before starting:\n${out}`)));
  });
  return { child, url, output: () => out };
}

function exited(child: ChildProcess, timeoutMs: number): Promise<number | null> {
  return new Promise((resolve, reject) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    const timer = setTimeout(() => reject(new Error('did not exit in time')), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

async function signIn(url: string, email: string, password: string) {
  const res = await fetch(`${url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });
  expect(res.status).toBe(200);
  const cookie = res.headers.get('set-cookie')!.split(';')[0];
  const body = (await res.json()) as { csrfToken: string; workspaces: { id: string; slug: string; role: string }[] };
  return { cookie, ...body };
}

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  if (parent) await rm(parent, { recursive: true, force: true });
});

describe('npm start', () => {
  it('starts on a fresh DATA_DIR, restarts without losing anything, and recovers after SIGKILL', async () => {
    parent = await mkdtemp(path.join(os.tmpdir(), 'rapport-start-'));
    const home = path.join(parent, 'home');
    await import('node:fs/promises').then((fs) => fs.mkdir(home));
    await chmod(home, 0o700);
    const dataDir = path.join(home, 'clone', 'data');
    const port = await freePort();
    const smtpPort = await freePort();

    // First start: database created, demo workspace, credentials printed once.
    const first = await start(dataDir, port, smtpPort);
    expect(first.url).toBe(`http://127.0.0.1:${port}`);
    const password = /password:\s+(\S+)/.exec(first.output())![1];
    expect(first.output()).toContain('email:    admin@rapport.local');
    // The demo's other roles are printed too; they share the owner's password.
    expect(first.output()).toMatch(
      /same password as:\n\s+sam\.agent@rapport\.local\s+\(agent\)\n\s+rio\.supervisor@rapport\.local\s+\(supervisor\)\n\s+casey\.client@rapport\.local\s+\(client viewer\)/,
    );
    expect((await fetch(`${first.url}/healthz`)).status).toBe(200);
    expect(await (await fetch(`${first.url}/healthz`)).json()).toEqual({ status: 'ok' });
    // The mode-700 directory became searchable by the postgres user, not readable.
    expect(statSync(home).mode & 0o007).toBe(0o001);

    const s = await signIn(first.url, 'admin@rapport.local', password);
    expect(s.workspaces).toEqual([expect.objectContaining({ slug: 'demo', role: 'owner' })]);
    const ws = s.workspaces[0].id;
    const list = (await (await fetch(`${first.url}/api/v1/workspaces/${ws}/conversations`, { headers: { cookie: s.cookie } })).json()) as { items: unknown[] };
    expect(list.items.length).toBe(8);
    const created = await fetch(`${first.url}/api/v1/workspaces/${ws}/conversations`, {
      method: 'POST',
      headers: { cookie: s.cookie, 'x-csrf-token': s.csrfToken, 'content-type': 'application/json' },
      body: JSON.stringify({ customer: { email: 'persist@example.test' }, subject: 'survives restarts', message: { body: 'hello' } }),
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    expect((await fetch(`${first.url}/api/docs/`)).status).toBe(200);
    expect((await fetch(`${first.url}/api/openapi.json`)).status).toBe(200);

    // Ctrl-C: clean exit, database stopped.
    first.child.kill('SIGINT');
    expect(await exited(first.child, 10_000)).toBe(0);
    expect(existsSync(path.join(dataDir, 'postgres', 'postmaster.pid'))).toBe(false);

    // Second start: same data, no new demo, same password.
    const second = await start(dataDir, port, smtpPort);
    expect(second.output()).not.toContain('demo workspace was created');
    const s2 = await signIn(second.url, 'admin@rapport.local', password);
    const again = await fetch(`${second.url}/api/v1/workspaces/${ws}/conversations/${id}`, { headers: { cookie: s2.cookie } });
    expect(again.status).toBe(200);
    expect(((await again.json()) as { subject: string }).subject).toBe('survives restarts');

    // SIGKILL leaves PostgreSQL running; the next start deals with it.
    second.child.kill('SIGKILL');
    await exited(second.child, 5000);
    expect(existsSync(path.join(dataDir, 'postgres', 'postmaster.pid'))).toBe(true);
    const third = await start(dataDir, port, smtpPort);
    const s3 = await signIn(third.url, 'admin@rapport.local', password);
    expect((await fetch(`${third.url}/api/v1/workspaces/${ws}/conversations/${id}`, { headers: { cookie: s3.cookie } })).status).toBe(200);
    third.child.kill('SIGTERM');
    expect(await exited(third.child, 10_000)).toBe(0);
  }, 180_000);

  it('stops with a clear message when a setting is wrong', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: root, env: { ...process.env, PORT: 'eighty' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d) => (err += d));
    expect(await exited(child, 20_000)).toBe(2);
    expect(err).toContain('PORT: "eighty" is not a port number');
  });
});
