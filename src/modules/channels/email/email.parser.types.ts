/** What the parser worker hands back: plain data, safe to post between threads. */
export interface EmailAddress {
  name: string;
  address: string;
}

export interface AuthResult {
  /** Who wrote the header (its first token), lower-cased. */
  authservId: string;
  /** pass, fail, none, ... or null when the header has no dmarc= result. */
  dmarc: string | null;
}

export interface ParsedAttachment {
  filename: string;
  contentType: string;
  size: number;
  sha256: string;
  content: Uint8Array;
  contentId: string | null;
  inline: boolean;
}

export interface ParsedEmail {
  status: 'parsed' | 'unparsed';
  /** Why the body could not be read (the raw source is kept either way). */
  error: string | null;
  messageId: string | null;
  inReplyTo: string[];
  references: string[];
  threadRoot: string | null;
  subject: string | null;
  date: string | null;
  from: EmailAddress | null;
  replyTo: EmailAddress[];
  to: EmailAddress[];
  cc: EmailAddress[];
  /** The new text of the message, with quoted history and signature folded away. */
  text: string;
  quoted: string | null;
  html: string | null;
  attachments: ParsedAttachment[];
  /** RFC 3834 and friends: what tells an automatic message from a person's. */
  auto: { autoSubmitted: string | null; precedence: string | null; listId: boolean; autoReplyHeader: boolean };
  /**
   * Every Authentication-Results header (RFC 8601), topmost (most recent hop) first, with its
   * authserv-id and DMARC result. Which one to believe is the ingest's decision (EMAIL_AUTHSERV_ID).
   */
  authResults: AuthResult[];
  /** The original sender of a forwarded message, when the forward carries one. */
  forwardedFrom: EmailAddress | null;
}

export interface ParseLimits {
  /** Largest header section read (SECURITY E8: a 1.1 MB header). */
  maxHeaderBytes: number;
  /** Most MIME parts (E8: 1,100 parts). */
  maxParts: number;
  /** Deepest nesting of message/rfc822 (E8: 50 levels). */
  maxDepth: number;
  /** Longest HTML converted to text. */
  maxHtmlLength: number;
}

export const defaultParseLimits: ParseLimits = {
  maxHeaderBytes: 512 * 1024,
  maxParts: 1024,
  maxDepth: 10,
  maxHtmlLength: 2 * 1024 * 1024,
};

/** What a message that could not be parsed (or stored) is recorded as: the raw source is kept, nothing is read from it. */
export function unparsedEmail(reason: string): ParsedEmail {
  return {
    status: 'unparsed',
    error: reason,
    messageId: null,
    inReplyTo: [],
    references: [],
    threadRoot: null,
    subject: null,
    date: null,
    from: null,
    replyTo: [],
    to: [],
    cc: [],
    text: '',
    quoted: null,
    html: null,
    attachments: [],
    auto: { autoSubmitted: null, precedence: null, listId: false, autoReplyHeader: false },
    authResults: [],
    forwardedFrom: null,
  };
}
