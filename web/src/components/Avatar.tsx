import { initials } from '../lib/format.js';

/** Initials in a colored circle; the color is derived from the name so people are recognizable. */
export function Avatar({ name, size = 28 }: { name: string | null | undefined; size?: number }) {
  let hash = 0;
  for (const ch of name ?? '') hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
  const hue = hash % 360;
  return (
    <span
      className="avatar"
      aria-hidden="true"
      ref={(el) => {
        // Set through CSSOM (not a style attribute) so the strict style CSP stays possible.
        if (el) {
          el.style.background = `hsl(${hue} 55% 42%)`;
          el.style.width = el.style.height = `${size}px`;
          el.style.fontSize = `${Math.round(size * 0.4)}px`;
        }
      }}
    >
      {initials(name)}
    </span>
  );
}
