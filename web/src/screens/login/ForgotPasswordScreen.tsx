import { useState, type FormEvent } from 'react';
import { ApiError } from '../../api/client.js';
import { useCapabilities, useRequestPasswordReset } from '../../api/session.js';
import { InlineError } from '../../components/States.js';
import { focusOnMount } from '../../lib/focus.js';
import { PageLink } from './PageLink.js';

/** Asks for a password reset link. The answer never says whether an account uses the email. */
export default function ForgotPasswordScreen() {
  const request = useRequestPasswordReset();
  const capabilities = useCapabilities();
  const [email, setEmail] = useState('');

  const submit = (event: FormEvent) => {
    event.preventDefault();
    request.mutate({ email: email.trim() });
  };

  const error = request.error;
  // Said before anyone types (the server tells), and again if the relay went away meanwhile.
  const unavailable = capabilities.data?.canSendEmail === false || (error instanceof ApiError && error.code === 'auth.mail_not_configured');
  const throttled = error instanceof ApiError && error.code === 'auth.too_many_attempts';

  return (
    <div className="login-page">
      <form className="login-card" onSubmit={submit} aria-label="Forgot password">
        <h1>Forgot your password?</h1>
        {request.isSuccess ? (
          <>
            <p role="status">
              If an account uses <strong>{request.variables.email}</strong>, we have sent it an email with a link to choose a new password. The link works once, for 1 hour.
            </p>
            <p className="muted">No email after a few minutes? Check your spam folder, and that you typed the address you sign in with.</p>
          </>
        ) : (
          <>
            <p className="muted">Type the email you sign in with. We will email you a link to choose a new password.</p>
            <label>
              Email
              <input type="email" name="email" autoComplete="username" required maxLength={254} value={email} onChange={(e) => setEmail(e.target.value)} ref={focusOnMount} />
            </label>
            {unavailable ? (
              <p role="alert" className="inline-error">
                This help desk cannot send email yet, so your password cannot be reset this way. Ask the person who runs it, or an admin of your workspace, for help.
              </p>
            ) : throttled ? (
              <p role="alert" className="inline-error">
                Several links were asked for already. Wait a while, check your mailbox for the last one, then try again.
              </p>
            ) : (
              <InlineError error={error} />
            )}
            <button type="submit" className="btn btn-primary" disabled={request.isPending || unavailable}>
              {request.isPending ? 'Sending…' : 'Email me a link'}
            </button>
          </>
        )}
        <p>
          <PageLink to="/login">Back to sign in</PageLink>
        </p>
      </form>
    </div>
  );
}
