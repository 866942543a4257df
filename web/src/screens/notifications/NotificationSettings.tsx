import { useState } from 'react';
import { type NotificationPreferences, useNotificationPreferences, useUpdateNotificationPreferences } from '../../api/notifications.js';
import { ErrorState, InlineError, Loading } from '../../components/States.js';

const KINDS: Array<{ kind: keyof NotificationPreferences['email']; label: string }> = [
  { kind: 'mentioned', label: 'Someone mentions me in a note' },
  { kind: 'assigned', label: 'A conversation is assigned to me' },
  { kind: 'customer_replied', label: 'A customer replies to a conversation assigned to me' },
  { kind: 'delivery_failed', label: 'A reply of mine could not be delivered' },
];

/**
 * My notification settings: in-app notifications are always on; email per kind (when the server has a
 * mail relay); browser notifications are this browser's permission, asked for only on a click.
 */
export function NotificationSettings({ ws }: { ws: string }) {
  const prefs = useNotificationPreferences(ws);
  const update = useUpdateNotificationPreferences(ws);
  const [permission, setPermission] = useState(() => ('Notification' in window ? window.Notification.permission : 'unsupported'));

  if (prefs.isPending) return <Loading />;
  if (prefs.isError) return <ErrorState error={prefs.error} retry={() => prefs.refetch()} />;
  const { email, emailAvailable } = prefs.data;

  return (
    <div className="bell-settings">
      <fieldset disabled={!emailAvailable || update.isPending}>
        <legend>Email me when</legend>
        {KINDS.map(({ kind, label }) => (
          <label key={kind} className="check">
            <input type="checkbox" checked={email[kind]} onChange={(e) => update.mutate({ ...email, [kind]: e.target.checked })} />
            {label}
          </label>
        ))}
      </fieldset>
      {emailAvailable ? null : (
        <p className="muted small">Email notifications are unavailable: this Rapport server has no mail relay set up. Ask whoever runs it to set EMAIL_VERIFICATION_SMTP_URL.</p>
      )}
      <InlineError error={update.error} />
      <div className="bell-browser">
        <strong>Browser notifications</strong>
        {permission === 'granted' ? (
          <p className="muted small">On: new notifications pop up while this tab is in the background.</p>
        ) : permission === 'denied' ? (
          <p className="muted small">Blocked in this browser. Allow notifications for this site in the browser’s settings to turn them on.</p>
        ) : permission === 'unsupported' ? (
          <p className="muted small">This browser cannot show notifications.</p>
        ) : (
          <p>
            <button type="button" className="btn btn-small" onClick={() => void window.Notification.requestPermission().then(setPermission)}>
              Turn on browser notifications
            </button>
          </p>
        )}
      </div>
    </div>
  );
}
