import compress from '@fastify/compress';
import type { App } from './types.js';

/** Answers smaller than this go out as they are: compressing them saves less than it costs. */
export const COMPRESS_THRESHOLD_BYTES = 2048;

/**
 * Compresses answers over COMPRESS_THRESHOLD_BYTES (an inbox page of 50 conversations is ~30 KB of JSON,
 * a few KB compressed) in the encoding the client prefers of brotli and gzip, with Vary:
 * Accept-Encoding; identity when the client accepts neither. Brotli runs at quality 4 (the plugin's
 * default): on the fly, quality 11 costs far more CPU than it saves in bytes; the static assets get
 * quality 11 once, at build time (web/vite.precompress.ts), and are served pre-compressed.
 *
 * Not compressed: event streams (the plugin's default type filter leaves text/event-stream out; a
 * compressor would hold back each event until its buffer fills), WebSocket upgrades (no HTTP answer
 * body; frames stay uncompressed, perMessageDeflate is off in realtime.module.ts), answers that already
 * carry a Content-Encoding (the pre-compressed assets), and range answers. Request bodies are never
 * inflated (globalDecompression: false): bodyLimit keeps meaning bytes on the wire.
 */
export async function registerCompression(app: App): Promise<void> {
  await app.register(compress, {
    global: true,
    globalDecompression: false,
    threshold: COMPRESS_THRESHOLD_BYTES,
    encodings: ['br', 'gzip'],
  });
}
