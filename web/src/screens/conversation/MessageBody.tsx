import { useMemo, useState } from 'react';
import { useRetryDelivery } from '../../api/conversations.js';
import { useInlineImages, type InlinePart } from '../../api/email.js';
import { InlineError } from '../../components/States.js';
import type { EmailAddress, EmailMetadata, Message } from '../../api/types.js';
import { bytes } from '../../lib/format.js';
import { useWorkspace } from '../../lib/workspace.js';
import { deliveryOf, deliveryText } from './delivery.js';
import { contentIdOf, inlineSources } from './inline-images.js';

/**
 * "Name <address>", as text. The metadata is JSON the server stored, possibly by an older version:
 * anything that is not the expected shape is shown as best it can be, never allowed to crash the thread.
 */
export function formatAddress(a: EmailAddress | string | null | undefined): string {
  if (!a) return '';
  if (typeof a === 'string') return a;
  if (typeof a !== 'object') return '';
  const address = typeof a.address === 'string' ? a.address : '';
  const name = typeof a.name === 'string' ? a.name.trim() : '';
  return name && address ? `${name} <${address}>` : name || address;
}

export function formatAddresses(list: EmailAddress[] | string | null | undefined): string {
  if (!list) return '';
  if (!Array.isArray(list)) return formatAddress(list);
  return list.map(formatAddress).filter(Boolean).join(', ');
}

/**
 * A message body. Plain text is rendered as React text (never as HTML). An email's HTML is shown only
 * inside an iframe with an empty sandbox (no scripts, no forms, no top navigation, an opaque origin)
 * and its own CSP that blocks remote content until the agent asks for images (tracking pixels).
 */
export function MessageBody({ message }: { message: Message }) {
  // A client viewer gets no email details (the server leaves metadata.email but its files out) and may
  // not download the original: its link is the agents'.
  const { ws, canWrite } = useWorkspace();
  const email = (message.metadata?.email ?? null) as EmailMetadata | null;
  const [view, setView] = useState<'html' | 'text'>(message.html ? 'html' : 'text');
  const attachments = Array.isArray(email?.attachments) ? email.attachments : [];
  const raw = Boolean(email && canWrite && message.type === 'inbound' && email.rawAvailable !== false);
  const emailBase = `/api/v1/workspaces/${encodeURIComponent(ws)}/email`;
  const delivery = deliveryOf(message.metadata);
  return (
    <div className="message-body">
      {email ? <EmailHeaders email={email} /> : null}
      {email?.parse === 'unparsed' ? (
        <div className="email-note email-unparsed" role="note">
          Parse failed, raw kept{typeof email.parseError === 'string' && email.parseError ? ` (${email.parseError})` : ''}: download the original to read it.
        </div>
      ) : null}
      {message.html ? (
        <div className="body-switch">
          <button type="button" className={`btn btn-small ${view === 'html' ? 'active' : ''}`} onClick={() => setView('html')}>
            Formatted
          </button>
          <button type="button" className={`btn btn-small ${view === 'text' ? 'active' : ''}`} onClick={() => setView('text')}>
            Plain text
          </button>
        </div>
      ) : null}
      {view === 'html' && message.html ? <HtmlFrame html={message.html} messageId={message.id} attachments={attachments} /> : <div className="message-text">{message.body}</div>}
      {typeof email?.quoted === 'string' && email.quoted ? (
        <details className="email-quoted">
          <summary>Show quoted text</summary>
          <div className="message-text">{email.quoted}</div>
        </details>
      ) : null}
      {attachments.length || raw ? (
        <ul className="attachments" aria-label="Attachments">
          {attachments.map((a, i) => (
            <li key={typeof a.id === 'string' ? a.id : i}>
              {/* Served with Content-Disposition: attachment and nosniff: a download, never rendered. */}
              {typeof a.id === 'string' ? (
                <a href={`${emailBase}/attachments/${encodeURIComponent(a.id)}`} download className="attachment-link">
                  {typeof a.name === 'string' && a.name ? a.name : 'attachment'}
                </a>
              ) : (
                <span>{typeof a.name === 'string' && a.name ? a.name : 'attachment'}</span>
              )}{' '}
              <span className="muted">{[a.contentType, bytes(a.size), a.inline ? 'inline' : ''].filter(Boolean).join(' · ')}</span>
            </li>
          ))}
          {raw ? (
            <li className="email-raw">
              <a href={`${emailBase}/messages/${encodeURIComponent(message.id)}/raw`} download className="raw-link">
                Download original (.eml)
              </a>
            </li>
          ) : null}
        </ul>
      ) : null}
      {delivery ? (
        <div className={`delivery delivery-${delivery.status}`} role={delivery.status === 'failed' ? 'alert' : undefined}>
          {deliveryText(delivery)}
          {delivery.status === 'failed' && delivery.retryable && canWrite && message.type === 'outbound' ? <RetryNow conversationId={message.conversationId} messageId={message.id} /> : null}
        </div>
      ) : null}
    </div>
  );
}

/** "Retry now" on a failed reply: the same reply goes through the outbound job again; the line above follows its delivery. */
function RetryNow({ conversationId, messageId }: { conversationId: string; messageId: string }) {
  const { ws } = useWorkspace();
  const retry = useRetryDelivery(ws, conversationId);
  return (
    <>
      {' '}
      <button type="button" className="btn btn-small" disabled={retry.isPending} onClick={() => retry.mutate(messageId)}>
        {retry.isPending ? 'Retrying…' : 'Retry now'}
      </button>
      <InlineError error={retry.error} />
    </>
  );
}

function EmailHeaders({ email }: { email: EmailMetadata }) {
  const from = formatAddress(email.from);
  const to = formatAddresses(email.to);
  const cc = formatAddresses(email.cc);
  const replyTo = formatAddresses(email.replyTo);
  const forwardedBy = formatAddress(email.forwardedBy);
  const rows: [string, string | null | undefined][] = [
    ['From', from],
    ['To', to],
    ['Cc', cc],
    ['Reply-To', replyTo],
    ['Subject', email.subject],
  ];
  const headerRows = rows.filter((row): row is [string, string] => Boolean(row[1]));
  // Why the sender is not proven, in the server's plain words (SPF, DKIM, DMARC or IMAP); older
  // messages carry only the flag.
  const auth = email.authentication && typeof email.authentication === 'object' ? email.authentication : null;
  const authReason = email.unverified && auth && typeof auth.reason === 'string' ? auth.reason : '';
  return (
    <>
      {email.unverified || forwardedBy || email.participant ? (
        <div className="email-flags">
          {email.unverified ? (
            <span
              className="badge badge-warning email-unverified"
              title="The sender could not be verified: the From line may be forged. Only a reply to the conversation's own reply address joins it."
            >
              Unverified sender
            </span>
          ) : null}
          {forwardedBy ? <span className="badge email-forwarded">Forwarded by {forwardedBy}</span> : null}
          {email.participant ? <span className="badge email-participant">Cc participant</span> : null}
        </div>
      ) : null}
      {authReason ? (
        <div className={`email-note email-auth email-auth-${auth?.verdict === 'failed' ? 'failed' : 'unverified'}`} role="note">
          {auth?.verdict === 'failed' ? 'Probably forged: ' : 'Sender not verified: '}
          {authReason}
        </div>
      ) : null}
      <dl className="email-headers">
        {headerRows.map(([label, value]) => (
          <div key={label}>
            <dt>{label}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
    </>
  );
}

/**
 * The email's HTML with its remote images taken out until the agent asks for them. The frame's own
 * CSP blocks them as well, but Chromium's preload scanner can request an <img> before the <meta>
 * CSP applies (seen in the e2e suite: a tracking pixel fetched once in a while), so the URLs are not
 * in the document at all. DOMParser builds an inert document: nothing in it loads or runs.
 */
export function withoutRemoteImages(html: string): string {
  const parsed = new DOMParser().parseFromString(html, 'text/html');
  for (const img of parsed.querySelectorAll('img')) {
    for (const attr of ['src', 'srcset']) {
      const value = img.getAttribute(attr);
      if (value && !/^\s*(data|cid):/i.test(value)) {
        img.setAttribute(`data-blocked-${attr}`, value);
        img.removeAttribute(attr);
      }
    }
  }
  return parsed.body.innerHTML; // read from the inert document, only to become the frame's srcdoc
}

/**
 * How tall the email's frame should be for its content, so a short email takes little room and a long
 * one is not read through a slot (issue #10, layout). The frame's origin is opaque (sandbox="", by
 * design: see ARCHITECTURE "Email HTML"), so the app cannot measure its document: the height is
 * estimated from the HTML, read through DOMParser's inert document (its text at about 7 px a
 * character on a 560 px line, its blocks and its images' declared heights), between 80 px and 70% of
 * the window; the agent can still drag the frame taller.
 */
export function frameHeight(html: string, windowHeight = typeof window === 'undefined' ? 800 : window.innerHeight): number {
  const body = new DOMParser().parseFromString(html, 'text/html').body;
  const text = (body.textContent ?? '').replace(/\s+/g, ' ').trim().length;
  const blocks = body.querySelectorAll('p, div, br, tr, li, h1, h2, h3, h4, h5, h6, blockquote, pre, hr').length;
  let images = 0;
  for (const img of body.querySelectorAll('img')) images += Math.min(Number(img.getAttribute('height')) || 160, 600);
  const lines = Math.ceil((text * 7) / 560) + Math.ceil(blocks / 2);
  return Math.round(Math.min(Math.max(80, 24 + lines * 21 + images), Math.max(240, windowHeight * 0.7)));
}

/** The srcdoc document: a CSP of its own (stricter than the app's) in front of the email's HTML. */
export function emailDocument(html: string, showImages: boolean): string {
  const img = showImages ? 'img-src data: cid: https: http:' : 'img-src data: cid:';
  const csp = `default-src 'none'; ${img}; style-src 'unsafe-inline'; font-src data:; script-src 'none'; form-action 'none'; base-uri 'none'`;
  return `<!doctype html><html><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="${csp}"><meta name="referrer" content="no-referrer"><base target="_blank"><style>body{font:14px/1.5 system-ui,sans-serif;margin:8px;color:#1d2433;word-wrap:break-word}img{max-width:100%}</style></head><body>${html}</body></html>`;
}

/**
 * The email's `cid:` images replaced by their files' bytes (data: URLs from useInlineImages), read
 * through DOMParser's inert document like withoutRemoteImages. A cid with no file (not read yet, or
 * none, or past the size budget of inlineSources) loses its src: a `cid:` URL loads nothing anyway, and the app's CSP, which the srcdoc frame
 * inherits, would report it.
 */
export function withInlineImages(html: string, images: Record<string, string>): string {
  if (!/cid:/i.test(html)) return html;
  const parsed = new DOMParser().parseFromString(html, 'text/html');
  const imgs = [...parsed.querySelectorAll('img')];
  const shown = inlineSources(
    imgs.map((img) => img.getAttribute('src')),
    images,
  );
  imgs.forEach((img, i) => {
    const src = img.getAttribute('src');
    if (!src || !contentIdOf(src)) return;
    const data = shown[i];
    if (data) img.setAttribute('src', data);
    else {
      img.setAttribute('data-cid-src', src);
      img.removeAttribute('src');
    }
  });
  return parsed.body.innerHTML;
}

type FileMeta = NonNullable<EmailMetadata['attachments']>[number];

function HtmlFrame({ html, messageId, attachments }: { html: string; messageId: string; attachments: FileMeta[] }) {
  const { ws } = useWorkspace();
  const [showImages, setShowImages] = useState(false);
  const hasRemote = useMemo(() => /<img[^>]+src\s*=\s*["']?\s*(https?:)?\/\//i.test(html) || /url\(\s*["']?\s*(https?:)?\/\//i.test(html), [html]);
  // Only the files the HTML names: an email's other attachments are not read.
  const parts = useMemo<InlinePart[]>(() => {
    const named = new Set<string>();
    for (const m of html.matchAll(/["'\s=]cid:([^"'\s>]+)/gi)) named.add(contentIdOf(`cid:${m[1]}`) ?? '');
    return attachments
      .filter((a) => typeof a.contentId === 'string' && typeof a.id === 'string' && named.has(a.contentId.toLowerCase()))
      .map((a) => ({ contentId: a.contentId as string, attachmentId: a.id }));
  }, [html, attachments]);
  const inline = useInlineImages(ws, messageId, parts);
  const images = inline.data;
  const doc = useMemo(() => {
    const withFiles = withInlineImages(html, images ?? {});
    return emailDocument(showImages ? withFiles : withoutRemoteImages(withFiles), showImages);
  }, [html, images, showImages]);
  const height = useMemo(() => frameHeight(html), [html]);
  return (
    <div className="html-frame">
      {hasRemote && !showImages ? (
        <div className="images-blocked">
          Remote images are blocked to protect your privacy.{' '}
          <button type="button" className="btn btn-small" onClick={() => setShowImages(true)}>
            Show images
          </button>
        </div>
      ) : null}
      {/* sandbox="" : no scripts, no same-origin, no forms, no popups, no top navigation. */}
      <iframe title="Email content" sandbox="" srcDoc={doc} referrerPolicy="no-referrer" loading="lazy" style={{ height }} />
    </div>
  );
}
