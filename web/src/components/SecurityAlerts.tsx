import { useDismissAlert } from '../api/session.js';
import type { Session } from '../api/types.js';

/**
 * Security alerts about the signed-in person's account (there is no system email yet, so this is
 * where they learn that someone tried many passwords on it). Shown until dismissed.
 */
export function SecurityAlerts({ session }: { session: Session }) {
  const dismiss = useDismissAlert();
  if (!session.alerts?.length) return null;
  return (
    <div className="security-alerts">
      {session.alerts.map((a) => (
        <div key={a.id} className="notice" role="alert">
          <strong>Security alert</strong> ({new Date(a.createdAt).toLocaleString()}): {a.message}{' '}
          <button type="button" className="btn btn-small" disabled={dismiss.isPending} onClick={() => dismiss.mutate(a.id)}>
            Got it
          </button>
        </div>
      ))}
    </div>
  );
}
