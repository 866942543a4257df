import type { FastifyReply, FastifyRequest } from 'fastify';
import type { App } from './types.js';

/**
 * Security headers on every response (L6), set in one place so that no HTML route can be added
 * without them: the web app, the invitation page (a client route of the web app), Swagger UI at
 * /api/docs, and anything a module may serve later.
 *
 * - Every response: `X-Content-Type-Options: nosniff` (a JSON or text answer is never sniffed into
 *   HTML) and `Referrer-Policy: no-referrer` (URLs hold ids; invitation links hold their token in
 *   the fragment, which is never sent, but nothing else needs to leak either).
 * - HTML: a Content-Security-Policy (the route's own, else `DEFAULT_HTML_CSP`, which allows only
 *   this origin's scripts), `frame-ancestors 'none'` plus `X-Frame-Options: DENY` for browsers
 *   without CSP 2 (clickjacking), and `Cross-Origin-Opener-Policy: same-origin`.
 */
export const DEFAULT_HTML_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * Swagger UI at /api/docs. Its page loads only files it serves itself (no inline script: the
 * Rapport settings, CSRF interceptors included, are in the served swagger-initializer.js).
 * style-src 'unsafe-inline': its React components set style attributes; img-src data: for the
 * icons its CSS embeds. connect-src 'self' fetches /api/openapi.json and runs "Try it out".
 * Checked in Chromium by test/api-docs.test.ts, which fails on any CSP violation.
 */
export const DOCS_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "worker-src 'none'",
  "frame-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

function isHtml(reply: FastifyReply): boolean {
  const type = reply.getHeader('content-type');
  return typeof type === 'string' && /^\s*(text\/html|application\/xhtml\+xml)\b/i.test(type);
}

export function addSecurityHeaders(app: App): void {
  app.addHook('onSend', async (_request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    if (!reply.hasHeader('x-content-type-options')) reply.header('x-content-type-options', 'nosniff');
    if (!reply.hasHeader('referrer-policy')) reply.header('referrer-policy', 'no-referrer');
    if (isHtml(reply)) {
      const csp = reply.getHeader('content-security-policy');
      if (typeof csp !== 'string') reply.header('content-security-policy', DEFAULT_HTML_CSP);
      else if (!/frame-ancestors/i.test(csp)) reply.header('content-security-policy', `${csp.replace(/;\s*$/, '')}; frame-ancestors 'none'`);
      reply.header('x-frame-options', 'DENY');
      if (!reply.hasHeader('cross-origin-opener-policy')) reply.header('cross-origin-opener-policy', 'same-origin');
    }
    return payload;
  });
}
