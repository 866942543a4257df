import { useRef } from 'react';
import { useConnectionState } from '../realtime/RealtimeProvider.js';

/**
 * Said plainly when live updates stop after they worked: the socket dropped and is reconnecting (or
 * the server asked this tab to wait). Not shown while the first connection is made, and gone as soon
 * as the connection is back (the provider then refetches what is on screen).
 */
export function ConnectionBanner() {
  const state = useConnectionState();
  const wasLive = useRef(false);
  if (state === 'live') wasLive.current = true;
  if (state === 'live' || !wasLive.current) return null;
  return (
    <div className="connection-banner" role="status" aria-live="polite" data-testid="connection-banner">
      {state === 'limited' ? 'Live updates are paused: too many Rapport tabs are open. Close a few; this one tries again by itself.' : 'Reconnecting… changes may be a few seconds late.'}
    </div>
  );
}
