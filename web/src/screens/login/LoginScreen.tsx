import { useState, type FormEvent } from 'react';
import { useLogin } from '../../api/session.js';
import { InlineError } from '../../components/States.js';
import { takeNotice } from '../../lib/notice.js';
import { focusOnMount } from '../../lib/focus.js';
import { PageLink } from './PageLink.js';

export function LoginScreen() {
  const login = useLogin();
  const [notice] = useState(takeNotice);
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');

  const submit = (event: FormEvent) => {
    event.preventDefault();
    login.mutate({ email: email.trim(), password });
  };

  return (
    <div className="login-page">
      <form className="login-card" onSubmit={submit} aria-label="Sign in">
        <h1>Rapport</h1>
        <p className="muted">Sign in to your help desk</p>
        {notice ? (
          <div className="notice" role="status">
            {notice}
          </div>
        ) : null}
        <label>
          Email
          <input type="email" name="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} ref={focusOnMount} />
        </label>
        <label>
          Password
          <input type="password" name="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
        </label>
        <InlineError error={login.error} />
        <button type="submit" className="btn btn-primary" disabled={login.isPending}>
          {login.isPending ? 'Signing in…' : 'Sign in'}
        </button>
        <p>
          <PageLink to="/forgot-password">Forgot password?</PageLink>
        </p>
      </form>
    </div>
  );
}
