import type { MouseEvent, ReactNode } from 'react';
import { navigate } from '../../lib/router.js';

/** A link between the sign-in pages: a real href (opens in a new tab too), navigated in place on a plain click. */
export function PageLink({ to, children }: { to: string; children: ReactNode }) {
  const onClick = (event: MouseEvent<HTMLAnchorElement>) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(to);
  };
  return (
    <a href={to} onClick={onClick}>
      {children}
    </a>
  );
}
