/**
 * Folds quoted history and the signature away from the new text of a reply, so the conversation
 * shows what the customer wrote now. Nothing is dropped: the folded part is kept beside it.
 * Line-based and linear: no pattern here can backtrack over a long input.
 */
const ATTRIBUTION = [
  /^on .{1,300} wrote:\s*$/i, // Gmail, Apple Mail, Thunderbird
  /^am .{1,300} schrieb .{0,300}:\s*$/i,
  /^le .{1,300} a écrit\s*:\s*$/i,
  /^-{2,} ?original message ?-{2,}\s*$/i, // Outlook
  /^-{5,} ?forwarded message ?-{5,}\s*$/i,
  /^_{10,}\s*$/, // Outlook's rule above "From: ..."
  /^from: .{1,300}$/i,
];

export function splitQuoted(text: string, maxScanLines = 5000): { fresh: string; quoted: string | null } {
  const lines = text.split(/\r?\n/);
  let cut = -1;
  for (let i = 0; i < lines.length && i < maxScanLines; i++) {
    const line = lines[i];
    if (line === '-- ' || line === '--') {
      cut = i;
      break;
    }
    if (ATTRIBUTION.some((re) => line.length < 400 && re.test(line))) {
      // "From:" opens a quoted header block only when "Sent:"/"Date:" follows it (Outlook).
      if (/^from: /i.test(line) && !/^(sent|date|to|subject):/i.test(lines[i + 1] ?? '')) continue;
      cut = i;
      break;
    }
    if (line.startsWith('>')) {
      // A block of quoted lines that runs to the end (only quotes and blank lines after it).
      let j = i;
      while (j < lines.length && (lines[j].startsWith('>') || lines[j].trim() === '')) j++;
      if (j === lines.length) {
        cut = i;
        break;
      }
      i = j - 1;
    }
  }
  if (cut <= 0) return { fresh: text.trim(), quoted: null };
  const fresh = lines.slice(0, cut).join('\n').trim();
  if (!fresh) return { fresh: text.trim(), quoted: null };
  return { fresh, quoted: lines.slice(cut).join('\n').trim() || null };
}
