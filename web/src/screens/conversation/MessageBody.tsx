import { useMemo, useState } from 'react';
import type { EmailMetadata, Message } from '../../api/types.js';
import { bytes } from '../../lib/format.js';

const list = (v: string | string[] | undefined) => (Array.isArray(v) ? v.join(', ') : v ?? '');

/**
 * A message body. Plain text is rendered as React text (never as HTML). An email's HTML is shown only
 * inside an iframe with an empty sandbox (no scripts, no forms, no top navigation, an opaque origin)
 * and its own CSP that blocks remote content until the agent asks for images (tracking pixels).
 */
export function MessageBody({ message }: { message: Message }) {
  const email = (message.metadata?.email ?? null) as EmailMetadata | null;
  const [view, setView] = useState<'html' | 'text'>(message.html ? 'html' : 'text');
  return (
    <div className="message-body">
      {email ? <EmailHeaders email={email} /> : null}
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
      {view === 'html' && message.html ? <HtmlFrame html={message.html} /> : <div className="message-text">{message.body}</div>}
      {email?.attachments?.length ? (
        <ul className="attachments" aria-label="Attachments">
          {email.attachments.map((a, i) => (
            <li key={a.id ?? i}>
              <span>{a.name ?? 'attachment'}</span> <span className="muted">{[a.contentType, bytes(a.size)].filter(Boolean).join(' · ')}</span>
            </li>
          ))}
        </ul>
      ) : null}
      {email?.delivery?.status ? (
        <div className={`delivery delivery-${email.delivery.status}`}>
          Delivery: {email.delivery.status}
          {email.delivery.error ? ` (${email.delivery.error})` : ''}
        </div>
      ) : null}
    </div>
  );
}

function EmailHeaders({ email }: { email: EmailMetadata }) {
  return (
    <dl className="email-headers">
      {email.from ? (
        <div>
          <dt>From</dt>
          <dd>{email.from}</dd>
        </div>
      ) : null}
      {email.to ? (
        <div>
          <dt>To</dt>
          <dd>{list(email.to)}</dd>
        </div>
      ) : null}
      {email.cc && list(email.cc) ? (
        <div>
          <dt>Cc</dt>
          <dd>{list(email.cc)}</dd>
        </div>
      ) : null}
      {email.subject ? (
        <div>
          <dt>Subject</dt>
          <dd>{email.subject}</dd>
        </div>
      ) : null}
    </dl>
  );
}

/** The srcdoc document: a CSP of its own (stricter than the app's) in front of the email's HTML. */
export function emailDocument(html: string, showImages: boolean): string {
  const img = showImages ? "img-src data: cid: https: http:" : 'img-src data: cid:';
  const csp = `default-src 'none'; ${img}; style-src 'unsafe-inline'; font-src data:; script-src 'none'; form-action 'none'; base-uri 'none'`;
  return `<!doctype html><html><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="${csp}"><meta name="referrer" content="no-referrer"><base target="_blank"><style>body{font:14px/1.5 system-ui,sans-serif;margin:8px;color:#1d2433;word-wrap:break-word}img{max-width:100%}</style></head><body>${html}</body></html>`;
}

function HtmlFrame({ html }: { html: string }) {
  const [showImages, setShowImages] = useState(false);
  const hasRemote = useMemo(() => /<img[^>]+src\s*=\s*["']?\s*(https?:)?\/\//i.test(html) || /url\(\s*["']?\s*(https?:)?\/\//i.test(html), [html]);
  const doc = useMemo(() => emailDocument(html, showImages), [html, showImages]);
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
      <iframe title="Email content" sandbox="" srcDoc={doc} referrerPolicy="no-referrer" loading="lazy" />
    </div>
  );
}
