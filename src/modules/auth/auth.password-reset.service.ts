import type { Pool, PoolClient } from '../../db/pool.js';
import { withSystem } from '../../db/tenancy.js';
import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';
import type { SystemMailer } from '../../lib/system-mail.js';
import { authErrors } from './auth.errors.js';
import { findAccount, findAccountByEmail, revokeAllTokensCreatedBy, setPasswordHash } from '../workspaces/workspaces.accounts.service.js';
import { authRepository } from './auth.repository.js';
import { passwordResetRepository as repo } from './auth.password-reset.repository.js';
import type { LoginThrottle } from './login-throttle.js';
import { checkPasswordStrength } from './password-policy.js';
import { hashPassword, newSecret, sha256 } from './secrets.js';

/**
 * Password reset by email (issue #8 H1, issue #10). An account belongs to whoever proves its email:
 * an admin who accepted an invitation for an address they do not read ("squatting" an account) loses
 * it when the address's owner resets the password through the link mailed there, since a reset
 * ends every session and revokes every API token the account made.
 */

export const RESET_TTL_MS = 60 * 60 * 1000;

export interface PasswordResetMail {
  /** The operator's relay; null when EMAIL_VERIFICATION_SMTP_URL is unset. */
  mailer: SystemMailer | null;
  /** Where the reset page lives (PUBLIC_URL or the address reached). */
  publicUrl: string;
}

/** The one answer to every request that passes the throttle, whether or not the email has an account. */
export const RESET_REQUESTED = {
  message: 'If an account uses this email, a link to choose a new password is on its way. It works once, for 1 hour.',
};

const unavailableDetail =
  'This server cannot send email yet, so a password cannot be reset by email. Ask the person who runs it to set up its mail relay (EMAIL_VERIFICATION_SMTP_URL), or ask an admin of your workspace for help.';

/**
 * Asks for a link. Known and unknown emails do the same work before the answer (a look-up, a new
 * secret and its hash, one write for a known one) and get the same 202; the mail itself is sent after
 * the answer, so the relay's speed does not tell either.
 */
export async function requestPasswordReset(
  deps: { pool: Pool; clock: Clock; throttle: LoginThrottle; log: Logger; mail: PasswordResetMail },
  input: { email: string; ip: string },
): Promise<{ message: string; sent: Promise<void> }> {
  const { mailer, publicUrl } = deps.mail;
  if (!mailer) throw authErrors.mailNotConfigured(unavailableDetail);
  deps.throttle.requestReset(input.email, input.ip);
  const token = newSecret();
  const now = deps.clock.now();
  const expiresAt = new Date(now.getTime() + RESET_TTL_MS);
  const user = await withSystem(deps.pool, async (tx) => {
    const found = await findAccountByEmail({ pool: deps.pool, tx }, input.email);
    if (!found || found.disabled_at) return null;
    await repo.replaceLink(tx, { userId: found.id, tokenHash: sha256(token), createdAt: now, expiresAt });
    return found;
  });
  if (!user) return { ...RESET_REQUESTED, sent: Promise.resolve() };
  const sent = mailer
    .send({
      to: user.email,
      subject: 'Choose a new password for Rapport',
      text: [
        `Someone (we hope you) asked to choose a new password for the Rapport account of ${user.email}.`,
        '',
        'To choose it, open this link:',
        `${publicUrl}/reset-password#token=${token}`,
        '',
        'The link works once, for 1 hour. Choosing a new password signs out every browser signed in to the account and revokes the API tokens it created.',
        'If you did not ask for this, ignore this email: your password stays as it is.',
      ].join('\n'),
    })
    .catch((error: unknown) => {
      deps.log.warn({ err: (error as Error).message }, 'the mail relay did not accept a password reset email');
    });
  return { ...RESET_REQUESTED, sent };
}

/** The account a live link opens, if that account is still enabled. */
async function liveLink(pool: Pool, tx: PoolClient, tokenHash: Buffer, now: Date, lock = false) {
  const link = await repo.liveLink(tx, tokenHash, now, lock);
  const account = link && (await findAccount({ pool, tx }, link.user_id));
  if (!account || account.disabled_at) return undefined;
  return { user_id: account.id, email: account.email, name: account.name };
}

/**
 * Uses a link: the token is checked first (before any hashing, so a guess costs us little), then the
 * password policy; the new password, the end of every session, the revocation of the account's API
 * tokens, its security alert and the link's use are one transaction.
 */
export async function acceptPasswordReset(
  deps: { pool: Pool; clock: Clock; throttle: LoginThrottle },
  input: { token: string; password: string; ip: string },
): Promise<{ email: string; sessionsEnded: number; tokensRevoked: number }> {
  deps.throttle.checkToken(input.ip);
  const tokenHash = /^[A-Za-z0-9_-]{43}$/.test(input.token) ? sha256(input.token) : null;
  const found = tokenHash ? await withSystem(deps.pool, (tx) => liveLink(deps.pool, tx, tokenHash, deps.clock.now())) : undefined;
  if (!tokenHash || !found) {
    deps.throttle.failToken(input.ip);
    throw authErrors.invalidResetLink('This password reset link does not work: it was already used, replaced by a newer one, or has expired. Ask for a new one.');
  }
  checkPasswordStrength(input.password, [found.email, found.name]);
  // argon2 runs outside the transaction, so it never holds the link's lock.
  const passwordHash = await hashPassword(input.password);
  return withSystem(deps.pool, async (tx) => {
    const now = deps.clock.now();
    const link = await liveLink(deps.pool, tx, tokenHash, now, true);
    if (!link) throw authErrors.invalidResetLink('This password reset link was used a moment ago. Ask for a new one if that was not you.');
    const accounts = { pool: deps.pool, tx };
    await setPasswordHash(accounts, link.user_id, passwordHash);
    const sessionsEnded = await repo.endSessions(tx, link.user_id);
    const tokensRevoked = await revokeAllTokensCreatedBy(accounts, link.user_id, now);
    await authRepository.insertAlert(tx, { userId: link.user_id, kind: 'password_reset', at: now, details: { sessionsEnded, tokensRevoked } });
    await repo.markUsed(tx, link.user_id, now);
    return { email: link.email, sessionsEnded, tokensRevoked };
  });
}
