import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { App } from '../../http/types.js';
import type { Deps } from '../context.js';
import type { RapportModule } from '../module.js';

/** Where `npm run build:web` puts the agent app (web/vite.config.ts). */
export const WEB_DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../web/dist');

/**
 * The app pages' Content-Security-Policy. Only our own bundles run (no inline script, no eval);
 * nothing may frame the app (clickjacking). Notes on the exceptions:
 * - style-src 'unsafe-inline': an email's HTML is shown in a sandboxed `srcdoc` iframe, and a srcdoc
 *   document inherits this policy, so without it every email would lose its inline styles. No user
 *   HTML ever reaches the app's own DOM (React text only), so this admits no CSS injection there.
 * - img-src https:: the same inheritance (measured in Chromium: with img-src 'self' data: an email's
 *   images never load, even after "show images"); the iframe's own stricter CSP blocks remote images
 *   until the agent asks (tracking pixels), and the app itself renders no user-supplied <img>.
 * - frame-src 'none': srcdoc frames are not fetched, so frame-src does not govern them (measured);
 *   no other frame is ever embedded, and emails inherit the ban on nested frames.
 * - connect-src 'self' covers same-origin fetch and the realtime WebSocket (CSP 3 matches ws:/wss:
 *   on the same host for 'self'; the e2e tests fail on any CSP violation).
 */
export const APP_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: https:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "frame-src 'none'",
  "child-src 'none'",
  "worker-src 'none'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

function securityHeaders(reply: FastifyReply, html: boolean): void {
  reply.header('x-content-type-options', 'nosniff');
  reply.header('referrer-policy', 'no-referrer');
  reply.header('cross-origin-opener-policy', 'same-origin');
  if (html) {
    reply.header('content-security-policy', APP_CSP);
    reply.header('x-frame-options', 'DENY');
    reply.header('permissions-policy', 'camera=(), microphone=(), geolocation=(), payment=()');
  }
}

/** index.html, re-read when a rebuild changes it (so `npm run build:web` needs no restart). */
function indexLoader(dist: string) {
  let cached: { mtimeMs: number; html: string } | null = null;
  return async (): Promise<string | null> => {
    const file = path.join(dist, 'index.html');
    try {
      const s = await stat(file);
      if (!cached || cached.mtimeMs !== s.mtimeMs) cached = { mtimeMs: s.mtimeMs, html: await readFile(file, 'utf8') };
      return cached.html;
    } catch {
      return null;
    }
  };
}

const wantsHtml = (request: FastifyRequest) => {
  const accept = request.headers.accept ?? '';
  return accept === '' || accept.includes('text/html') || accept.includes('*/*');
};

/**
 * Serves the agent web app at `/`: hashed assets under /assets (cached for a year, pre-compressed), and index.html for
 * every client route (GET, not under /api, asking for HTML), so deep links like /w/<id>/v/mine load.
 */
export async function serveWebApp(app: App, server: Deps, dist = WEB_DIST): Promise<void> {
  if (!existsSync(path.join(dist, 'index.html'))) {
    server.log.warn({ dist }, 'the web app is not built: run `npm run build:web` (npm start does it first)');
  }
  const loadIndex = indexLoader(dist);
  await app.register(async (scope) => {
    await scope.register(fastifyStatic, {
      root: path.join(dist, 'assets'),
      prefix: '/assets/',
      decorateReply: false,
      index: false,
      cacheControl: false,
      // The build writes <asset>.br and <asset>.gz (web/vite.precompress.ts): the one the request's
      // Accept-Encoding prefers is sent, with Vary: Accept-Encoding and its own Content-Length; the
      // plain file when it accepts neither.
      preCompressed: true,
      // Vite puts a content hash in every asset name: a new build means new names.
      setHeaders: (reply) => {
        reply.header('cache-control', 'public, max-age=31536000, immutable');
        securityHeaders(reply, false);
      },
    });

    const page = async (request: FastifyRequest, reply: FastifyReply) => {
      const url = request.url;
      if (url.startsWith('/api/') || url === '/api' || url.startsWith('/assets/') || !wantsHtml(request)) return reply.callNotFound();
      const html = await loadIndex();
      securityHeaders(reply, true);
      reply.header('cache-control', 'no-cache');
      if (!html) {
        return reply.code(503).type('text/plain; charset=utf-8').send('The Rapport web app is not built yet. Run `npm run build:web` (npm start does it), then reload.');
      }
      return reply.type('text/html; charset=utf-8').send(html);
    };
    scope.get('/', { schema: { hide: true } }, page);
    scope.get('/*', { schema: { hide: true } }, page);
  });
}

export const webModule: RapportModule = {
  name: 'web',
  plugins: (app, server) => serveWebApp(app, server),
};
