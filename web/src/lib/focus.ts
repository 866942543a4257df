/**
 * A ref callback that focuses its element once, when it mounts: what the autoFocus attribute did, for
 * the first field of the sign-in screens, where typing is the only thing to do. Module level, so its
 * identity never changes and React does not call it again on every render.
 */
export function focusOnMount(el: HTMLElement | null): void {
  el?.focus();
}
