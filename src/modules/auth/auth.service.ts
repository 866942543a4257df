import type { Pool, PoolClient } from '../../db/pool.js';
import { inSystemTx, withSystem } from '../../db/tenancy.js';
import type { Clock } from '../../lib/clock.js';
import { authErrors } from './auth.errors.js';
import { findAccount, findAccountByEmail, isInstanceAdmin, type WorkspaceMembership, workspacesOf } from '../workspaces/workspaces.accounts.service.js';
import { authRepository, type SecurityAlertRow } from './auth.repository.js';
import { newSecret, sha256, verifyPassword } from './secrets.js';
import type { LoginThrottle } from './login-throttle.js';

export interface SecurityAlertView {
  id: string;
  kind: SecurityAlertRow['kind'];
  message: string;
  createdAt: string;
}

export interface SessionView {
  user: { id: string; email: string; name: string; instanceAdmin: boolean };
  workspaces: WorkspaceMembership[];
  csrfToken: string;
  /** Security alerts the person has not dismissed yet (e.g. many wrong passwords tried on the account). */
  alerts: SecurityAlertView[];
}

function alertMessage(a: SecurityAlertRow): string {
  if (a.kind === 'password_changed') {
    const ended = Number(a.details.sessionsEnded ?? 0);
    return (
      'Your password was changed from your profile' +
      (ended ? `; the ${ended} other browser${ended === 1 ? ' that was' : 's that were'} signed in to your account ${ended === 1 ? 'was' : 'were'} signed out` : '') +
      '. Your API tokens still work. If you did not do this, reset your password with "Forgot your password?" at once and revoke your API tokens.'
    );
  }
  if (a.kind === 'password_reset') {
    const tokens = Number(a.details.tokensRevoked ?? 0);
    return (
      'Your password was changed through a reset link mailed to your address. Every browser signed in to your account was signed out' +
      (tokens ? ` and the ${tokens} API token${tokens === 1 ? '' : 's'} you had created were revoked` : '') +
      '. If you did not do this, ask for a new reset link at once.'
    );
  }
  return (
    `Many wrong passwords were tried on your account${a.details.addresses ? ` from ${a.details.addresses} different addresses` : ''}. ` +
    'They were slowed down and you signed in normally; if you did not expect this, choose a stronger password.'
  );
}

const alertView = (a: SecurityAlertRow): SecurityAlertView => ({
  id: a.id,
  kind: a.kind,
  message: alertMessage(a),
  createdAt: a.created_at.toISOString(),
});

type ThrottleDeps = { pool: Pool; clock: Clock; throttle: LoginThrottle };

/**
 * Checks `password` for `user` (or a dummy, when there is none) through the throttle, and records a
 * security alert for the account's owner when the failures amount to an attack on it.
 */
export async function checkPasswordWithThrottle(
  deps: ThrottleDeps,
  email: string,
  ip: string,
  user: { id: string; password_hash: string | null; disabled_at: Date | null } | undefined,
  password: string,
  opts: { countFailure?: boolean } = {},
): Promise<boolean> {
  deps.throttle.check(email, ip);
  const ok = await verifyPassword(user && !user.disabled_at ? user.password_hash : null, password);
  if (ok) {
    deps.throttle.succeed(email, ip);
    return true;
  }
  if (opts.countFailure === false) return false;
  const attackStarted = deps.throttle.fail(email, ip);
  if (attackStarted && user) {
    await withSystem(deps.pool, (tx) => authRepository.insertAlert(tx, { userId: user.id, kind: 'password_guessing', at: deps.clock.now(), details: deps.throttle.sourcesOf(email) }));
  }
  return false;
}

export async function login(deps: ThrottleDeps & { sessionHours: number }, input: { email: string; password: string; ip: string }) {
  const { pool, clock } = deps;
  const user = await findAccountByEmail({ pool }, input.email);
  // An unknown email is throttled, verified against a dummy hash and answered like a wrong password.
  const ok = await checkPasswordWithThrottle(deps, input.email, input.ip, user, input.password);
  if (!user || !ok) throw authErrors.invalidCredentials();
  const sessionToken = newSecret();
  const csrfToken = newSecret();
  const now = clock.now();
  const view = await withSystem(pool, async (tx) => {
    await authRepository.createSession(tx, {
      tokenHash: sha256(sessionToken),
      userId: user.id,
      csrfToken,
      createdAt: now,
      expiresAt: new Date(now.getTime() + deps.sessionHours * 3600_000),
    });
    return {
      user: { id: user.id, email: user.email, name: user.name, instanceAdmin: user.instance_admin },
      workspaces: await workspacesOf({ pool, tx }, user.id),
      csrfToken,
      alerts: (await authRepository.openAlerts(tx, user.id)).map(alertView),
    } satisfies SessionView;
  });
  return { sessionToken, view };
}

/**
 * The session a cookie holds, if it is live and its account enabled: sessions are this module's,
 * accounts the workspaces module's, so two look-ups in one transaction.
 */
export async function liveSession(deps: { pool: Pool; clock: Clock; tx?: PoolClient }, sessionToken: string) {
  return inSystemTx(deps, async (tx) => {
    const s = await authRepository.findSession(tx, sha256(sessionToken), deps.clock.now());
    if (!s) return undefined;
    const user = await findAccount({ pool: deps.pool, tx }, s.user_id);
    if (!user || user.disabled_at) return undefined;
    return { user, csrfToken: s.csrf_token };
  });
}

export async function currentSession(deps: { pool: Pool; clock: Clock }, sessionToken: string): Promise<SessionView | null> {
  return withSystem(deps.pool, async (tx) => {
    const s = await liveSession({ ...deps, tx }, sessionToken);
    if (!s) return null;
    const { user } = s;
    return {
      user: { id: user.id, email: user.email, name: user.name, instanceAdmin: user.instance_admin },
      workspaces: await workspacesOf({ pool: deps.pool, tx }, user.id),
      csrfToken: s.csrfToken,
      alerts: (await authRepository.openAlerts(tx, user.id)).map(alertView),
    };
  });
}

/** The signed-in person has read a security alert. Another person's alert answers like a missing one. */
export async function dismissAlert(deps: { pool: Pool; clock: Clock }, userId: string, alertId: string): Promise<void> {
  const done = await withSystem(deps.pool, (tx) => authRepository.dismissAlert(tx, userId, alertId, deps.clock.now()));
  if (!done) throw authErrors.alertNotFound();
}

export async function logout(deps: { pool: Pool }, sessionToken: string): Promise<void> {
  await withSystem(deps.pool, (tx) => authRepository.deleteSession(tx, sha256(sessionToken)));
}

/** Whether this person may create workspaces: instance admins always; everyone when the instance says so. */
export async function mayCreateWorkspace(deps: { pool: Pool }, userId: string, policy: 'admins' | 'everyone'): Promise<boolean> {
  if (policy === 'everyone') return true;
  return isInstanceAdmin(deps, userId);
}

/**
 * Sensitive changes (creating an API token) need the person's password again, not just a live
 * session (SECURITY A6): a stolen session cookie or an unattended browser cannot mint lasting access.
 * An API token cannot do them at all. The re-check is a password guess like a sign-in and goes
 * through the same throttle and counts (issue #8 L2), so a stolen session cannot guess at leisure.
 */
export async function requireReauthentication(deps: ThrottleDeps, auth: { kind: 'session'; userId: string } | { kind: 'token' } | null, password: string | undefined, ip: string): Promise<void> {
  if (!auth || auth.kind !== 'session' || !password) throw authErrors.reauthenticationRequired();
  const user = await findAccount(deps, auth.userId);
  if (!user || !(await checkPasswordWithThrottle(deps, user.email, ip, user, password))) throw authErrors.reauthenticationRequired();
}
