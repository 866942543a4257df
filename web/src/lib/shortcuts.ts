import { useEffect, useRef } from 'react';

function typingInField(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  if (!el) return false;
  const tag = el.tagName;
  return tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || el.isContentEditable;
}

/**
 * Single-key shortcuts (j, k, r, n, e, a, ?). Ignored while the agent types in a field or holds a
 * modifier, so they never eat a letter of a reply.
 */
export function useShortcuts(map: Record<string, (() => void) | undefined | false>): void {
  const ref = useRef(map);
  ref.current = map;
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || typingInField(event.target)) return;
      const handler = ref.current[event.key];
      if (!handler) return;
      event.preventDefault();
      handler();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
}

export const SHORTCUTS: [string, string][] = [
  ['j', 'Next conversation'],
  ['k', 'Previous conversation'],
  ['r', 'Reply'],
  ['n', 'Internal note'],
  ['e', 'Resolve'],
  ['a', 'Assign to me'],
  ['/', 'Search'],
  ['?', 'Show these shortcuts'],
  ['Esc', 'Close dialogs, leave a field'],
];
