import type { Viewer } from '../../realtime/socket.js';

/** Collision detection: who else has this conversation open, and whether they are typing. */
export function Presence({ viewers }: { viewers: Viewer[] }) {
  if (viewers.length === 0) return null;
  const typing = viewers.filter((v) => v.typing);
  const names = (list: Viewer[]) => list.map((v) => v.name).join(', ');
  return (
    <div className={`presence ${typing.length ? 'typing' : ''}`} role="status" aria-live="polite" data-testid="presence">
      <span className="dot" aria-hidden="true" />
      {typing.length ? `${names(typing)} ${typing.length > 1 ? 'are' : 'is'} typing…` : `${names(viewers)} ${viewers.length > 1 ? 'are' : 'is'} viewing`}
    </div>
  );
}
