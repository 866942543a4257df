/**
 * Display names and file names are only labels: control characters and the bidirectional controls
 * (U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069) go, so "invoice\u202Efdp.exe" cannot read as
 * "invoiceexe.pdf" and a sender's name cannot reorder the text around it (issue #8 L8). The email
 * parser strips them from every name it reads, and uploads and the download header use the same rule.
 */
const LABEL_NOISE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** The label without those characters, whitespace runs folded, at most `max` characters. */
export function plainLabel(value: string, max: number): string {
  return value.replace(LABEL_NOISE, '').replace(/\s+/g, ' ').trim().slice(0, max);
}
