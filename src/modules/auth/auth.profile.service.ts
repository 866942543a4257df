import type { Pool } from '../../db/pool.js';
import { withSystem } from '../../db/tenancy.js';
import type { Clock } from '../../lib/clock.js';
import { plainLabel } from '../../lib/labels.js';
import { commonErrors } from '../../lib/errors.js';
import { findAccount, setAccountName, setPasswordHash } from '../workspaces/workspaces.accounts.service.js';
import { authErrors } from './auth.errors.js';
import { authRepository } from './auth.repository.js';
import { checkPasswordWithThrottle } from './auth.service.js';
import type { LoginThrottle } from './login-throttle.js';
import { checkPasswordStrength } from './password-policy.js';
import { hashPassword, sha256, verifyPassword } from './secrets.js';

/**
 * The signed-in person's own account (issue #10, "change password and name in a profile screen").
 * Only a person signed in through a session has a profile: an API token acts for a workspace, not for
 * a person, and may change neither the name nor the password of its creator (SECURITY A6).
 */
type ProfileDeps = { pool: Pool; clock: Clock; throttle: LoginThrottle };
type Caller = { kind: 'session'; userId: string; sessionToken: string } | { kind: 'token' } | null;

export interface ProfileView {
  id: string;
  email: string;
  name: string;
}

function personOf(auth: Caller): { userId: string; sessionToken: string } {
  if (auth?.kind === 'token') throw commonErrors.forbidden('An API token acts for a workspace, not for a person: it has no profile to change.');
  if (auth?.kind !== 'session') throw commonErrors.unauthenticated('Sign in to change your profile.');
  return auth;
}

/** Sets the display name colleagues see (control and bidi characters dropped, spaces folded: a label, issue #8 L8). */
export async function updateProfile(deps: { pool: Pool }, auth: Caller, input: { name: string }): Promise<ProfileView> {
  const { userId } = personOf(auth);
  const name = plainLabel(input.name, 200);
  if (!name) throw commonErrors.validation('Type your name: it cannot be only spaces.');
  return withSystem(deps.pool, async (tx) => {
    await setAccountName({ pool: deps.pool, tx }, userId, name);
    const user = (await findAccount({ pool: deps.pool, tx }, userId))!;
    return { id: user.id, email: user.email, name: user.name };
  });
}

/**
 * Changes the password, given the current one. The current password is a guess like a sign-in's and
 * goes through the same throttle (SECURITY A8): a stolen session cannot try passwords at leisure. The
 * new one meets the sign-up policy. In one transaction: the new hash, the end of every OTHER session of
 * the account (the browser that changed it stays signed in) and a security alert.
 *
 * API tokens are kept, on purpose, unlike a reset by email: a reset is how the owner of an address
 * takes an account back from whoever held it (issue #8 H1), so everything that holder made goes; a
 * change here is made by someone who knows the current password in a live session, usually the owner
 * rotating it, and revoking their integrations' tokens would break them without making anything
 * safer (whoever had the password could mint a token anyway until now). The screen says so and points
 * to the API tokens list for someone who suspects more.
 */
export async function changePassword(deps: ProfileDeps, auth: Caller, input: { currentPassword: string; newPassword: string; ip: string }): Promise<{ sessionsEnded: number }> {
  const { userId, sessionToken } = personOf(auth);
  const user = await findAccount(deps, userId);
  if (!user || user.disabled_at) throw authErrors.sessionExpired();
  if (!(await checkPasswordWithThrottle(deps, user.email, input.ip, user, input.currentPassword))) {
    throw authErrors.wrongPassword('Your current password is not right. Type the password you signed in with.');
  }
  // The sign-up rules (invitations.schemas.ts Password: 10 characters at least; then the strength policy), said in words.
  if (input.newPassword.length < 10) throw authErrors.weakPassword('Use at least 10 characters. A few unrelated words make a strong passphrase.');
  checkPasswordStrength(input.newPassword, [user.email, user.name]);
  if (await verifyPassword(user.password_hash, input.newPassword)) throw authErrors.samePassword('Choose a password different from your current one.');
  // argon2 runs outside the transaction.
  const passwordHash = await hashPassword(input.newPassword);
  return withSystem(deps.pool, async (tx) => {
    const now = deps.clock.now();
    await setPasswordHash({ pool: deps.pool, tx }, userId, passwordHash);
    const sessionsEnded = await authRepository.endOtherSessions(tx, userId, sha256(sessionToken));
    await authRepository.insertAlert(tx, { userId, kind: 'password_changed', at: now, details: { sessionsEnded } });
    return { sessionsEnded };
  });
}
