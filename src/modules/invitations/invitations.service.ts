import type { Pool } from '../../db/pool.js';
import { inWorkspaceTx, withSystem } from '../../db/tenancy.js';
import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';
import type { SystemMailer } from '../../lib/system-mail.js';
import type { WorkspaceContext } from '../context.js';
import { checkPasswordWithThrottle } from '../auth/auth.service.js';
import type { LoginThrottle } from '../auth/login-throttle.js';
import { checkPasswordStrength } from '../auth/password-policy.js';
import type { Role } from '../auth/roles.js';
import { hashPassword, newSecret, sha256 } from '../auth/secrets.js';
import { workspaceErrors } from '../workspaces/workspaces.errors.js';
import { addMembership, createAccount, findAccount, findAccountByEmail, isMemberByEmail, workspaceSummary } from '../workspaces/workspaces.accounts.service.js';
import { invitationErrors } from './invitations.errors.js';
import { invitationsRepository as repo, type InvitationRow } from './invitations.repository.js';
import type { AcceptInvitationInput, CreateInvitationInput } from './invitations.schemas.js';

/** How long an invitation link works. */
export const INVITATION_HOURS = 72;

const view = (r: InvitationRow) => ({
  id: r.id,
  email: r.email,
  role: r.role,
  invitedBy: r.invited_by,
  createdAt: r.created_at.toISOString(),
  expiresAt: r.expires_at.toISOString(),
});

export interface InvitationMail {
  /** The operator's relay; null when EMAIL_VERIFICATION_SMTP_URL is unset. */
  mailer: SystemMailer | null;
  /** Where the accept page lives (PUBLIC_URL or the address reached). */
  publicUrl: string;
  log: Logger;
}

/** The invitation email: plain words, who invited whom to which workspace, and the link. */
export function invitationMailText(opts: { workspaceName: string; inviter: string; role: Role; link: string }): string {
  return [
    `${opts.inviter} invited you to join the workspace "${opts.workspaceName}" on Rapport, with the role ${opts.role}.`,
    '',
    'To accept, open this link:',
    opts.link,
    '',
    `The link works once, for ${INVITATION_HOURS} hours. If you have no Rapport account yet, you choose your own password there; if you have one, sign in first and then open the link.`,
    'If you did not expect this invitation, ignore this email: nothing happens unless the link is opened.',
  ].join('\n');
}

/**
 * A new invitation. This is also how an admin "adds a user" (issue #8 H1): the account is made, or an
 * existing one joins, only by whoever holds the link sent to that email, and the answer says nothing
 * about whether the email has an account.
 *
 * With the operator's relay set, the link is mailed to the invited email and never shown to the
 * inviting admin (`delivery: 'emailed'`): otherwise an admin of any workspace could invite someone
 * else's address, open the link and choose the password of that person's global account. The mail
 * leaves after the commit and the answer never waits for the relay. Without a relay, the link is
 * answered once to the admin to pass on (`delivery: 'link'`), as before.
 */
export async function createInvitation(deps: WorkspaceContext & { mail: InvitationMail }, callerRole: Role, input: CreateInvitationInput) {
  if (input.role === 'owner' && callerRole !== 'owner') throw workspaceErrors.ownerOnly();
  const email = input.email.trim().toLowerCase();
  const token = newSecret('rpi_');
  const at = deps.clock.now();
  const { row, workspaceName, inviter } = await inWorkspaceTx(deps, async (tx) => {
    if (await isMemberByEmail({ pool: deps.pool, tx }, deps.workspaceId, email)) throw workspaceErrors.alreadyMember();
    const inserted = await repo.insert(tx, {
      workspaceId: deps.workspaceId,
      email,
      role: input.role,
      tokenHash: sha256(token),
      invitedBy: deps.actor.type === 'user' ? deps.actor.id : null,
      at,
      expiresAt: new Date(at.getTime() + INVITATION_HOURS * 3600_000),
    });
    if (!deps.mail.mailer) return { row: inserted, workspaceName: '', inviter: null };
    const user = deps.actor.type === 'user' && deps.actor.id ? await findAccount({ pool: deps.pool, tx }, deps.actor.id) : undefined;
    return {
      row: inserted,
      workspaceName: (await workspaceSummary({ pool: deps.pool, tx }, deps.workspaceId))?.name ?? 'a workspace',
      inviter: user ? { name: user.name, email: user.email } : null,
    };
  });
  const acceptUrl = `${deps.mail.publicUrl}/accept-invitation#token=${encodeURIComponent(token)}`;
  const { mailer, log } = deps.mail;
  if (!mailer) return { invitation: { ...view(row), delivery: 'link' as const, token, acceptUrl }, sent: Promise.resolve() };
  const sent = mailer
    .send({
      to: email,
      // One line: names are people's own words, never a header break.
      subject: `${inviter?.name ?? 'An admin'} invited you to ${workspaceName} on Rapport`.replace(/[\r\n]+/g, ' '),
      text: invitationMailText({
        workspaceName,
        role: row.role,
        link: acceptUrl,
        inviter: inviter ? `${inviter.name} (${inviter.email})` : 'An admin of the workspace (through an API token)',
      }),
    })
    .catch((error: unknown) => {
      log.warn({ err: (error as Error).message, invitationId: row.id }, 'the mail relay did not accept an invitation email');
    });
  return { invitation: { ...view(row), delivery: 'emailed' as const }, sent };
}

export async function listInvitations(deps: WorkspaceContext) {
  const rows = await inWorkspaceTx(deps, (tx) => repo.listPending(tx, deps.workspaceId, deps.clock.now()));
  return { items: rows.map(view) };
}

export async function revokeInvitation(deps: WorkspaceContext, id: string): Promise<void> {
  const done = await inWorkspaceTx(deps, (tx) => repo.revoke(tx, deps.workspaceId, id, deps.clock.now()));
  if (!done) throw invitationErrors.notFound();
}

export interface InvitationPreview {
  workspace: { name: string };
  email: string;
  role: Role;
  invitedBy: string | null;
  expiresAt: string;
}

/**
 * What an invitation link opens, before accepting it (issue #10: "the accept page names the workspace
 * and the email"). Throttled and answered like accept: unknown, used, revoked and expired tokens get one
 * answer. It says nothing about whether the email has an account (issue #8 L3): the holder of the link
 * learns only what the invitation email itself says.
 */
export async function previewInvitation(deps: { pool: Pool; clock: Clock; throttle: LoginThrottle }, input: { token: string; ip: string }): Promise<InvitationPreview> {
  deps.throttle.checkToken(input.ip);
  const preview = await withSystem(deps.pool, async (tx) => {
    const inv = await repo.claimable(tx, sha256(input.token), deps.clock.now(), false);
    if (!inv) return undefined;
    const workspace = await workspaceSummary({ pool: deps.pool, tx }, inv.workspace_id);
    const inviter = inv.invited_by ? await findAccount({ pool: deps.pool, tx }, inv.invited_by) : undefined;
    return { workspace: { name: workspace?.name ?? '' }, email: inv.email, role: inv.role, invitedBy: inviter?.name ?? null, expiresAt: inv.expires_at.toISOString() };
  });
  if (!preview) {
    deps.throttle.failToken(input.ip);
    throw invitationErrors.invalidToken();
  }
  return preview;
}

export interface AcceptedInvitation {
  workspace: { id: string; name: string; slug: string };
  email: string;
  role: Role;
  /** `sign_in`: sign in with the invited email and password to open the workspace; `open`: joined, open it. */
  next: 'sign_in' | 'open';
}

/**
 * Accepts an invitation (SECURITY A4, issue #8 H1, L3, L7).
 *
 * The token is checked first, before any password hashing, and addresses that try tokens which open
 * nothing are throttled; unknown, used, revoked and expired tokens all get the same answer.
 *
 * Signed in, the account must be the invited email's: it joins. Not signed in, the person gives a name
 * and a password, and the answer is the same whether or not the email has an account, so the link
 * cannot be used to find out (L3): a new email gets its account; an existing account joins only if the
 * password is its own (a guess like a sign-in, throttled alike); otherwise nothing joins. Either way
 * the link is used up and the answer is "sign in to continue". A person who has an account signs in
 * first (the web app says so) and accepts signed in.
 *
 * Without a mail relay, the link passes through the inviting admin, who could use it on a new
 * email; that only makes a fresh account with no other workspace, and never touches an existing one.
 * With a relay the link is mailed to the invited email only (see createInvitation).
 */
export async function acceptInvitation(
  deps: { pool: Pool; clock: Clock; throttle: LoginThrottle },
  caller: { userId: string | null; ip: string },
  input: AcceptInvitationInput,
): Promise<AcceptedInvitation> {
  const now = deps.clock.now();
  const tokenHash = sha256(input.token);
  deps.throttle.checkToken(caller.ip);
  const found = await withSystem(deps.pool, (tx) => repo.claimable(tx, tokenHash, now, false));
  if (!found) {
    deps.throttle.failToken(caller.ip);
    throw invitationErrors.invalidToken();
  }

  if (caller.userId) {
    const userId = caller.userId;
    return withSystem(deps.pool, async (tx) => {
      const inv = await repo.claimable(tx, tokenHash, now);
      if (!inv) throw invitationErrors.invalidToken();
      const me = await findAccount({ pool: deps.pool, tx }, userId);
      if (!me || me.email.toLowerCase() !== inv.email.toLowerCase()) throw invitationErrors.wrongAccount();
      if (!(await addMembership({ pool: deps.pool, tx }, inv.workspace_id, userId, inv.role, now))) throw workspaceErrors.alreadyMember();
      await repo.markAccepted(tx, inv.workspace_id, inv.id, userId, now);
      return { workspace: (await workspaceSummary({ pool: deps.pool, tx }, inv.workspace_id))!, email: inv.email, role: inv.role, next: 'open' as const };
    });
  }

  if (!input.name || !input.password) throw invitationErrors.accountDetailsRequired();
  // Judged before we know whether the email has an account, so the answer cannot tell.
  checkPasswordStrength(input.password, [found.email, input.name]);
  const existing = await findAccountByEmail(deps, found.email);
  // Both paths hash once and verify once (a dummy for a new email): the same work, the same time.
  // argon2 runs outside the transaction so it never holds the invitation's lock.
  const passwordHash = await hashPassword(input.password);
  const ownsAccount = await checkPasswordWithThrottle(deps, found.email, caller.ip, existing, input.password, { countFailure: Boolean(existing) });

  return withSystem(deps.pool, async (tx) => {
    const inv = await repo.claimable(tx, tokenHash, now);
    if (!inv) throw invitationErrors.invalidToken();
    const answer = { workspace: (await workspaceSummary({ pool: deps.pool, tx }, inv.workspace_id))!, email: inv.email, role: inv.role, next: 'sign_in' as const };
    const account = await findAccountByEmail({ pool: deps.pool, tx }, inv.email);
    let userId: string;
    if (!account) {
      // The email has no account (checked again under the lock): the link's holder makes it.
      userId = await createAccount({ pool: deps.pool, tx }, { email: inv.email, name: input.name!, passwordHash, at: now });
    } else if (existing && account.id === existing.id && ownsAccount) {
      userId = account.id;
    } else {
      // Not the account's password: nothing joins, and the link is used up all the same, so a second
      // try cannot tell an existing account (link still open) from a new one (link used).
      await repo.revoke(tx, inv.workspace_id, inv.id, now);
      return answer;
    }
    await addMembership({ pool: deps.pool, tx }, inv.workspace_id, userId, inv.role, now);
    await repo.markAccepted(tx, inv.workspace_id, inv.id, userId, now);
    return answer;
  });
}
