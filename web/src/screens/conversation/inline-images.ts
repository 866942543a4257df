/**
 * Which `cid:` image of an email gets which bytes (pure, so it is tested without a browser:
 * test/web-inline-images.test.ts). MessageBody's withInlineImages applies the answer to the HTML.
 */

/** Characters of data: URLs one email's document may hold (about 15 MB of images). */
export const INLINE_DOCUMENT_BUDGET = 20_000_000;

/** The lower-case Content-ID a `cid:` URL names (RFC 2392: URL-encoded), or null for any other URL. */
export function contentIdOf(src: string | null | undefined): string | null {
  const m = /^\s*cid:(.+)$/i.exec(src ?? '');
  if (!m) return null;
  try {
    return decodeURIComponent(m[1]).trim().replace(/^<|>$/g, '').toLowerCase();
  } catch {
    return m[1].trim().toLowerCase();
  }
}

/**
 * For each image source in document order, the data: URL it shows, or null (not a cid, no file read,
 * or past the budget). Each use copies the bytes into the document: a mail naming one large image a
 * thousand times (SECURITY E8) would make a document of gigabytes, so past `budget` characters the
 * rest stay empty.
 */
export function inlineSources(sources: Array<string | null>, images: Record<string, string>, budget = INLINE_DOCUMENT_BUDGET): Array<string | null> {
  let left = budget;
  return sources.map((src) => {
    const cid = contentIdOf(src);
    const data = cid ? images[cid] : undefined;
    if (!data || data.length > left) return null;
    left -= data.length;
    return data;
  });
}
