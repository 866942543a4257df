import type { Pool } from '../../db/pool.js';
import { withSystem } from '../../db/tenancy.js';
import type { Clock } from '../../lib/clock.js';
import { authErrors } from './auth.errors.js';
import { authRepository, type WorkspaceMembership } from './auth.repository.js';
import { newSecret, sha256, verifyPassword } from './secrets.js';
import type { LoginThrottle } from './login-throttle.js';

export interface SessionView {
  user: { id: string; email: string; name: string };
  workspaces: WorkspaceMembership[];
  csrfToken: string;
}

export async function login(deps: { pool: Pool; clock: Clock; throttle: LoginThrottle; sessionHours: number }, input: { email: string; password: string; ip: string }) {
  const { pool, clock, throttle } = deps;
  throttle.check(input.email, input.ip);
  const user = await withSystem(pool, (tx) => authRepository.findUserByEmail(tx, input.email));
  const ok = await verifyPassword(user && !user.disabled_at ? user.password_hash : null, input.password);
  if (!user || !ok) {
    throttle.fail(input.email, input.ip);
    throw authErrors.invalidCredentials();
  }
  throttle.succeed(input.email, input.ip);
  const sessionToken = newSecret();
  const csrfToken = newSecret();
  const now = clock.now();
  const workspaces = await withSystem(pool, async (tx) => {
    await authRepository.createSession(tx, {
      tokenHash: sha256(sessionToken),
      userId: user.id,
      csrfToken,
      createdAt: now,
      expiresAt: new Date(now.getTime() + deps.sessionHours * 3600_000),
    });
    return authRepository.workspacesOf(tx, user.id);
  });
  const view: SessionView = { user: { id: user.id, email: user.email, name: user.name }, workspaces, csrfToken };
  return { sessionToken, view };
}

export async function currentSession(deps: { pool: Pool; clock: Clock }, sessionToken: string): Promise<SessionView | null> {
  return withSystem(deps.pool, async (tx) => {
    const s = await authRepository.findSession(tx, sha256(sessionToken), deps.clock.now());
    if (!s) return null;
    return {
      user: { id: s.user_id, email: s.email, name: s.name },
      workspaces: await authRepository.workspacesOf(tx, s.user_id),
      csrfToken: s.csrf_token,
    };
  });
}

export async function logout(deps: { pool: Pool }, sessionToken: string): Promise<void> {
  await withSystem(deps.pool, (tx) => authRepository.deleteSession(tx, sha256(sessionToken)));
}

/**
 * Sensitive changes (creating an API token) need the person's password again, not just a live
 * session (SECURITY A6): a stolen session cookie or an unattended browser cannot mint lasting access.
 * An API token cannot do them at all.
 */
export async function requireReauthentication(deps: { pool: Pool }, auth: { kind: 'session'; userId: string } | { kind: 'token' } | null, password: string | undefined): Promise<void> {
  if (!auth || auth.kind !== 'session' || !password) throw authErrors.reauthenticationRequired();
  const user = await withSystem(deps.pool, (tx) => authRepository.findUser(tx, auth.userId));
  if (!(await verifyPassword(user?.password_hash ?? null, password))) throw authErrors.reauthenticationRequired();
}
