/**
 * Mentions in a note: `@` followed by a member's name ("@Ana Lopez") or the local part of their email
 * ("@ana.lopez"), matched case-insensitively against the workspace's members. The composer inserts the
 * name, so the stored note reads as written (no markup to render or to leak into a reply); the server
 * resolves it against members, so nobody outside the workspace can be named.
 *
 * Rules: the `@` starts the text or follows a character that is not a letter, digit or one of `._-`
 * (so `bob@ana.test` mentions nobody); the name ends at the end of the text or before a character that
 * is not a letter, digit or `_`, and not a `.`/`-` that goes on into a word; at one `@` the longest
 * matching name wins ("@Ana Lopez" is Ana Lopez, not also a member called Ana), and every member known
 * by that name is mentioned (two people with the same name are both told).
 */
export interface Mentionable {
  id: string;
  name: string;
  email: string;
}

const WORD = /[\p{L}\p{N}_]/u;
const BEFORE = /[\p{L}\p{N}._-]/u;

function handlesOf(m: Mentionable): string[] {
  const local = m.email.split('@')[0] ?? '';
  return [m.name.trim(), local].filter((h) => h.length > 0).map((h) => h.toLowerCase());
}

function endsThere(text: string, end: number): boolean {
  if (end >= text.length) return true;
  const c = text[end];
  if (WORD.test(c)) return false;
  if ((c === '.' || c === '-') && end + 1 < text.length && WORD.test(text[end + 1])) return false;
  return true;
}

/** The ids of the members the text mentions, each once, in member order. */
export function mentionedIn(text: string, members: readonly Mentionable[]): string[] {
  const lower = text.toLowerCase();
  const handles = members.map((m) => ({ id: m.id, handles: handlesOf(m) }));
  const found = new Set<string>();
  for (let at = lower.indexOf('@'); at >= 0; at = lower.indexOf('@', at + 1)) {
    if (at > 0 && BEFORE.test(lower[at - 1])) continue;
    let best = 0;
    let ids: string[] = [];
    for (const m of handles) {
      for (const h of m.handles) {
        if (h.length < best || !lower.startsWith(h, at + 1) || !endsThere(lower, at + 1 + h.length)) continue;
        if (h.length > best) {
          best = h.length;
          ids = [];
        }
        if (!ids.includes(m.id)) ids.push(m.id);
      }
    }
    for (const id of ids) found.add(id);
  }
  return members.map((m) => m.id).filter((id) => found.has(id));
}
