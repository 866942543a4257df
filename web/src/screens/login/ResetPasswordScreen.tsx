import { useState, type FormEvent } from 'react';
import { ApiError } from '../../api/client.js';
import { useResetPassword } from '../../api/session.js';
import { InlineError } from '../../components/States.js';
import { focusOnMount } from '../../lib/focus.js';
import { PageLink } from './PageLink.js';

/** The page a password reset email links to: choose a new password; every browser signed in is signed out. */
export default function ResetPasswordScreen({ token }: { token: string }) {
  const reset = useResetPassword();
  const [password, setPassword] = useState('');
  const [again, setAgain] = useState('');
  const [mismatch, setMismatch] = useState(false);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (password !== again) return setMismatch(true);
    setMismatch(false);
    reset.mutate({ token, password });
  };

  const error = reset.error;
  const badLink = !token || (error instanceof ApiError && error.code === 'auth.invalid_reset_link');

  if (reset.isSuccess) {
    return (
      <div className="login-page">
        <main className="login-card" aria-label="Password changed">
          <h1>Password changed</h1>
          <p role="status">
            The password of <strong>{reset.data.email}</strong> is changed. Every browser that was signed in to this account has been signed out, and the API tokens the account created no longer work.
          </p>
          <PageLink to="/login">Sign in with your new password</PageLink>
        </main>
      </div>
    );
  }

  return (
    <div className="login-page">
      <form className="login-card" onSubmit={submit} aria-label="Choose a new password">
        <h1>Choose a new password</h1>
        {badLink ? (
          <>
            <p role="alert">This link does not work. It may have expired (links work for 1 hour), been used already, or been replaced by a newer one. Only the newest link we emailed you works.</p>
            <PageLink to="/forgot-password">Ask for a new link</PageLink>
          </>
        ) : (
          <>
            <p className="muted">A few unrelated words make a strong password that is easy to remember.</p>
            <label>
              New password
              <input type="password" name="password" autoComplete="new-password" required maxLength={256} value={password} onChange={(e) => setPassword(e.target.value)} ref={focusOnMount} />
            </label>
            <label>
              The same password again
              <input type="password" name="password-again" autoComplete="new-password" required maxLength={256} value={again} onChange={(e) => setAgain(e.target.value)} />
            </label>
            {mismatch ? (
              <p role="alert" className="inline-error">
                The two passwords are not the same. Type them again.
              </p>
            ) : (
              <InlineError error={error} />
            )}
            <button type="submit" className="btn btn-primary" disabled={reset.isPending}>
              {reset.isPending ? 'Saving…' : 'Save the new password'}
            </button>
            <p className="muted">Saving it signs out every browser signed in to your account.</p>
          </>
        )}
      </form>
    </div>
  );
}
