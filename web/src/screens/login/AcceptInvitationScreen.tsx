import { useState, type FormEvent } from 'react';
import { useAcceptInvitation } from '../../api/workspace.js';
import { InlineError } from '../../components/States.js';
import { navigate } from '../../lib/router.js';

export default function AcceptInvitationScreen({ token }: { token: string }) {
  const accept = useAcceptInvitation();
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    accept.mutate({ token, name: name.trim() || undefined, password: password || undefined }, { onSuccess: () => navigate('/login') });
  };
  return (
    <div className="login-page">
      <form className="login-card" onSubmit={submit} aria-label="Accept invitation">
        <h1>Join Rapport</h1>
        <p className="muted">Choose your name and a password (at least 10 characters).</p>
        <label>
          Your name
          <input value={name} onChange={(e) => setName(e.target.value)} required />
        </label>
        <label>
          Password
          <input type="password" autoComplete="new-password" minLength={10} value={password} onChange={(e) => setPassword(e.target.value)} required />
        </label>
        <InlineError error={accept.error} />
        <button type="submit" className="btn btn-primary" disabled={accept.isPending || !token}>
          Accept invitation
        </button>
      </form>
    </div>
  );
}
