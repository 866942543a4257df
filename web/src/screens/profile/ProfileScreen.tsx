import { useState, type FormEvent } from 'react';
import { ApiError } from '../../api/client.js';
import { useChangePassword, useUpdateProfile } from '../../api/profile.js';
import type { Session } from '../../api/types.js';
import { Avatar } from '../../components/Avatar.js';
import { InlineError } from '../../components/States.js';
import { navigate } from '../../lib/router.js';

/**
 * The signed-in person's profile (issue #10): the name colleagues see, and the password. Changing
 * the password signs out every other browser; this one stays, and API tokens keep working (a reset
 * by email is the one that revokes them): the screen says both before and after.
 */
export default function ProfileScreen({ session, ws, canManageTokens }: { session: Session; ws: string; canManageTokens: boolean }) {
  return (
    <div className="admin-content profile">
      <h1>
        <Avatar name={session.user.name} size={36} /> Your profile
      </h1>
      <p className="muted">
        You sign in as <strong>{session.user.email}</strong>.
      </p>
      <NameForm current={session.user.name} />
      <PasswordForm ws={ws} canManageTokens={canManageTokens} />
    </div>
  );
}

function NameForm({ current }: { current: string }) {
  const update = useUpdateProfile();
  const [name, setName] = useState(current);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    update.mutate({ name: name.trim() });
  };
  return (
    <form className="stack-form" onSubmit={submit} aria-label="Your name">
      <h2>Name</h2>
      <label>
        Your name, as your colleagues see it
        <input
          name="name"
          autoComplete="name"
          required
          maxLength={200}
          value={name}
          onChange={(e) => {
            setName(e.target.value);
            update.reset();
          }}
        />
      </label>
      {update.isSuccess ? (
        <p role="status" className="test-ok">
          Saved. Your colleagues now see you as {update.data.name}.
        </p>
      ) : (
        <InlineError error={update.error} />
      )}
      <div className="settings-actions">
        <button type="submit" className="btn btn-primary" disabled={update.isPending || !name.trim() || name.trim() === current}>
          {update.isPending ? 'Saving…' : 'Save name'}
        </button>
      </div>
    </form>
  );
}

function PasswordForm({ ws, canManageTokens }: { ws: string; canManageTokens: boolean }) {
  const change = useChangePassword();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [again, setAgain] = useState('');
  const [mismatch, setMismatch] = useState(false);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (next !== again) return setMismatch(true);
    setMismatch(false);
    change.mutate(
      { currentPassword: current, newPassword: next },
      {
        onSuccess: () => {
          setCurrent('');
          setNext('');
          setAgain('');
        },
      },
    );
  };

  const error = change.error;
  const code = error instanceof ApiError ? error.code : null;
  const tokensLink = canManageTokens ? (
    <a
      href={`/w/${ws}/admin/tokens`}
      onClick={(e) => {
        e.preventDefault();
        navigate(`/w/${ws}/admin/tokens`);
      }}
    >
      API tokens
    </a>
  ) : (
    'API tokens'
  );

  return (
    <form className="stack-form" onSubmit={submit} aria-label="Change your password">
      <h2>Password</h2>
      <p className="muted">
        Changing your password signs out every other browser signed in to your account; this one stays signed in. Your {tokensLink} keep working: revoke them there if you think someone else used your
        account.
      </p>
      <label>
        Current password
        <input type="password" name="current-password" autoComplete="current-password" required maxLength={256} value={current} onChange={(e) => setCurrent(e.target.value)} />
      </label>
      <label>
        New password
        <input type="password" name="new-password" autoComplete="new-password" required maxLength={256} value={next} onChange={(e) => setNext(e.target.value)} />
      </label>
      <label>
        The new password again
        <input type="password" name="new-password-again" autoComplete="new-password" required maxLength={256} value={again} onChange={(e) => setAgain(e.target.value)} />
      </label>
      <p className="muted">A few unrelated words make a strong password that is easy to remember.</p>
      {change.isSuccess ? (
        <p role="status" className="test-ok">
          {change.data.message}
        </p>
      ) : mismatch ? (
        <p role="alert" className="inline-error">
          The two new passwords are not the same. Type them again.
        </p>
      ) : code === 'auth.wrong_password' ? (
        <p role="alert" className="inline-error">
          Your current password is not right. Type the password you signed in with, or sign out and use “Forgot your password?”.
        </p>
      ) : code === 'auth.too_many_attempts' ? (
        <p role="alert" className="inline-error">
          Too many wrong passwords were tried. Wait a few minutes, then try again.
        </p>
      ) : (
        <InlineError error={error} />
      )}
      <div className="settings-actions">
        <button type="submit" className="btn btn-primary" disabled={change.isPending}>
          {change.isPending ? 'Saving…' : 'Change password'}
        </button>
      </div>
    </form>
  );
}
