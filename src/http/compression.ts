import compress from '@fastify/compress';
import type { App } from './types.js';

/** Answers smaller than this go out as they are: compressing them saves less than it costs. */
export const COMPRESS_THRESHOLD_BYTES = 2048;

/** JSON answers (application/json, application/problem+json, ...): the answers that grow with data. */
const JSON_TYPES = /^application\/(?:[\w.-]+\+)?json(?:;|$)/;

/** Routes whose answers are compressed on the fly: the API (the web app's assets are pre-compressed). */
const compressedRoute = (url: string) => url.startsWith('/api/') && !url.startsWith('/api/docs/static');

/**
 * Compresses JSON answers over COMPRESS_THRESHOLD_BYTES (an inbox page of 50 conversations is ~30 KB of JSON,
 * a few KB compressed) in the encoding the client prefers of brotli and gzip, with Vary:
 * Accept-Encoding; identity when the client accepts neither. Brotli runs at quality 4 (the plugin's
 * default): on the fly, quality 11 costs far more CPU than it saves in bytes; the static assets get
 * quality 11 once, at build time (web/vite.precompress.ts), and are served pre-compressed.
 *
 * Only the API's answers: the app's assets go out pre-compressed, and the API docs' 1.7 MB Swagger
 * bundle took seconds of CPU to compress on every visit under load (measured: 6 s; the plugin's type
 * filter also admits every type mime-db calls compressible, so the route decides, not the type).
 * Not compressed either: event streams (a compressor would hold back each event until its buffer
 * fills), WebSocket upgrades (no HTTP answer
 * body; frames stay uncompressed, perMessageDeflate is off in realtime.module.ts), answers that already
 * carry a Content-Encoding (the pre-compressed assets), and range answers. Request bodies are never
 * inflated (globalDecompression: false): bodyLimit keeps meaning bytes on the wire.
 */
declare module 'fastify' {
  interface FastifyContextConfig {
    /** The answer carries a secret (a session's CSRF token, a credential shown once): never compressed (BREACH). */
    secretAnswer?: boolean;
  }
}

/**
 * An answer that carries a secret beside anything the caller chose is never compressed: its
 * compressed length would leak the secret byte by byte (BREACH). Routes say so with
 * `config.secretAnswer`; a route whose answer an Idempotency-Key may not replay
 * (`idempotency.replay: false`) carries a credential by definition.
 */
const carriesSecret = (config: unknown) => {
  const c = (config ?? {}) as { secretAnswer?: boolean; idempotency?: { replay?: boolean } };
  return c.secretAnswer === true || c.idempotency?.replay === false;
};

export async function registerCompression(app: App): Promise<void> {
  // Runs before the plugin's own onRoute hook (registered first), which honours `compress: false`.
  app.addHook('onRoute', (route) => {
    if (!compressedRoute(route.url) || carriesSecret(route.config)) (route as { compress?: false }).compress = false;
  });
  await app.register(compress, {
    global: true,
    globalDecompression: false,
    threshold: COMPRESS_THRESHOLD_BYTES,
    encodings: ['br', 'gzip'],
    customTypes: JSON_TYPES,
  });
}
