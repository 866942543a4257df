import { useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { keys } from '../../api/keys.js';
import { useLogin, useSession } from '../../api/session.js';
import { ApiError } from '../../api/client.js';
import { type InvitationPreview, useAcceptInvitation, useInvitationPreview } from '../../api/workspace.js';
import { InlineError } from '../../components/States.js';
import { setNotice } from '../../lib/notice.js';
import { inboxPath, navigate } from '../../lib/router.js';

/**
 * The invitation link. Signed in, the person joins with the account they have. Not signed in, they
 * either create their account (name and password) or sign in first, here, and then join: an account
 * that exists is never joined by choosing a new password on this page.
 */
export default function AcceptInvitationScreen({ token }: { token: string }) {
  const session = useSession();
  const preview = useInvitationPreview(token);
  const [mode, setMode] = useState<'new' | 'existing'>('new');
  if (!token || (preview.error instanceof ApiError && preview.error.code === 'invitations.invalid_token')) {
    return (
      <div className="login-page">
        <section className="login-card" aria-label="Invitation">
          <h1>This invitation does not work</h1>
          <p role="alert">It may have expired (invitations work for 72 hours), been used already, or been revoked. Ask the admin who invited you for a new one.</p>
        </section>
      </div>
    );
  }
  const about = <InvitationSummary preview={preview.data} />;
  if (session.data) return <JoinSignedIn token={token} email={session.data.user.email} about={about} />;
  return (
    <div className="login-page">
      {mode === 'new' ? <CreateAccount token={token} about={about} onHaveAccount={() => setMode('existing')} /> : <SignInFirst about={about} onNewAccount={() => setMode('new')} />}
    </div>
  );
}

const ROLE_WORDS: Record<string, string> = { owner: 'an owner', admin: 'an admin', supervisor: 'a supervisor', agent: 'an agent', client_viewer: 'a client viewer (reading only)' };

/** Who invited whom, to which workspace, as what: the person knows what they accept before they do. */
function InvitationSummary({ preview }: { preview: InvitationPreview | undefined }) {
  if (!preview) return null;
  return (
    <p className="invitation-summary" data-testid="invitation-summary">
      {preview.invitedBy ? `${preview.invitedBy} invited ` : 'You are invited: '}
      <strong>{preview.email}</strong> to join <strong>{preview.workspace.name}</strong> as {ROLE_WORDS[preview.role] ?? preview.role}.
    </p>
  );
}

function JoinSignedIn({ token, email, about }: { token: string; email: string; about: React.ReactNode }) {
  const qc = useQueryClient();
  const accept = useAcceptInvitation();
  const join = () =>
    accept.mutate(
      { token },
      {
        onSuccess: async (joined) => {
          await qc.invalidateQueries({ queryKey: keys.session });
          navigate(inboxPath(joined.workspace.id, joined.role === 'client_viewer' ? 'open' : 'mine'), { replace: true });
        },
      },
    );
  return (
    <div className="login-page">
      <section className="login-card" aria-label="Accept invitation">
        <h1>Join the workspace</h1>
        {about}
        <p className="muted">
          You are signed in as <strong>{email}</strong>. The invitation joins this account if it was sent to this email.
        </p>
        <InlineError error={accept.error} />
        <button type="button" className="btn btn-primary" disabled={accept.isPending || !token} onClick={join}>
          Join as {email}
        </button>
      </section>
    </div>
  );
}

function CreateAccount({ token, about, onHaveAccount }: { token: string; about: React.ReactNode; onHaveAccount: () => void }) {
  const accept = useAcceptInvitation();
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    accept.mutate(
      { token, name: name.trim() || undefined, password: password || undefined },
      {
        onSuccess: (answer) => {
          setNotice(
            `Now sign in with ${answer.email} and the password you chose. If that email already had a Rapport account, nothing was changed: sign in with your usual password and ask for a new invitation.`,
          );
          navigate('/login');
        },
      },
    );
  };
  return (
    <form className="login-card" onSubmit={submit} aria-label="Accept invitation">
      <h1>Join Rapport</h1>
      {about}
      <p className="muted">New here? Choose your name and a password: at least 10 characters and hard to guess (a few unrelated words make a good one).</p>
      <label>
        Your name
        <input value={name} onChange={(e) => setName(e.target.value)} required />
      </label>
      <label>
        Password
        <input type="password" autoComplete="new-password" minLength={10} maxLength={256} value={password} onChange={(e) => setPassword(e.target.value)} required />
      </label>
      <InlineError error={accept.error} />
      <button type="submit" className="btn btn-primary" disabled={accept.isPending || !token}>
        Accept invitation
      </button>
      <button type="button" className="btn btn-ghost" onClick={onHaveAccount}>
        I already have an account
      </button>
    </form>
  );
}

function SignInFirst({ about, onNewAccount }: { about: React.ReactNode; onNewAccount: () => void }) {
  const login = useLogin();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    // Once signed in, the screen offers to join with this account (the session query updates).
    login.mutate({ email: email.trim(), password });
  };
  return (
    <form className="login-card" onSubmit={submit} aria-label="Sign in to accept">
      <h1>Sign in to join</h1>
      {about}
      <p className="muted">Sign in with the account the invitation was sent to; then you can join with it.</p>
      <label>
        Email
        <input type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} />
      </label>
      <label>
        Password
        <input type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
      </label>
      <InlineError error={login.error} />
      <button type="submit" className="btn btn-primary" disabled={login.isPending}>
        Sign in
      </button>
      <button type="button" className="btn btn-ghost" onClick={onNewAccount}>
        I am new here
      </button>
    </form>
  );
}
