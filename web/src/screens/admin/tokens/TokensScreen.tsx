import { useState } from 'react';
import type { Role } from '../../../api/types.js';
import { useCreateToken, useRevokeToken, useTokens } from '../../../api/workspace.js';
import { Empty, ErrorState, InlineError, Loading } from '../../../components/States.js';
import { useWorkspace } from '../../../lib/workspace.js';

type TokenRole = Exclude<Role, 'owner'>;

export function TokensScreen() {
  const { ws } = useWorkspace();
  const tokens = useTokens(ws);
  const create = useCreateToken(ws);
  const revoke = useRevokeToken(ws);
  const [name, setName] = useState('');
  const [role, setRole] = useState<TokenRole>('agent');
  const [password, setPassword] = useState('');
  return (
    <div>
      <h1>API tokens</h1>
      {create.data ? (
        <div className="notice" role="status">
          Copy the token now; it is not shown again: <code className="secret">{create.data.token}</code>
        </div>
      ) : null}
      {tokens.isPending ? (
        <Loading />
      ) : tokens.isError ? (
        <ErrorState error={tokens.error} retry={() => tokens.refetch()} />
      ) : tokens.data.length === 0 ? (
        <Empty title="No API tokens" />
      ) : (
        <table className="table">
          <thead>
            <tr>
              <th>Name</th>
              <th>Role</th>
              <th>Prefix</th>
              <th>Last used</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {tokens.data.map((t) => (
              <tr key={t.id} className={t.revokedAt ? 'revoked' : ''}>
                <td>{t.name}</td>
                <td>{t.role}</td>
                <td>
                  <code>{t.prefix}…</code>
                </td>
                <td>{t.lastUsedAt ? new Date(t.lastUsedAt).toLocaleString() : 'never'}</td>
                <td>
                  {t.revokedAt ? (
                    <span className="muted">revoked</span>
                  ) : (
                    <button type="button" className="btn btn-small" disabled={revoke.isPending} onClick={() => confirm(`Revoke ${t.name}?`) && revoke.mutate(t.id)}>
                      Revoke
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>New token</h2>
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          create.mutate(
            { name: name.trim(), role, currentPassword: password },
            {
              onSuccess: () => {
                setName('');
                setPassword('');
              },
            },
          );
        }}
      >
        <input aria-label="Token name" placeholder="Name (e.g. CRM sync)" value={name} onChange={(e) => setName(e.target.value)} required maxLength={100} />
        <select aria-label="Token role" value={role} onChange={(e) => setRole(e.target.value as TokenRole)}>
          {(['admin', 'supervisor', 'agent', 'client_viewer'] as TokenRole[]).map((r) => (
            <option key={r} value={r}>
              {r.replace('_', ' ')}
            </option>
          ))}
        </select>
        <input
          type="password"
          aria-label="Your password"
          placeholder="Your password, to confirm"
          autoComplete="current-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          required
        />
        <button type="submit" className="btn btn-primary" disabled={create.isPending}>
          Create token
        </button>
      </form>
      <InlineError error={create.error ?? revoke.error} />
    </div>
  );
}
