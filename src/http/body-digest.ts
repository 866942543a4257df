import type { Hash, Hmac } from 'node:crypto';
import { pipeline, Transform, type Readable } from 'node:stream';

/**
 * A request body passed on unchanged, each chunk fed to `hash` on its way to the body parser: the
 * stream a `preParsing` hook returns. Hashing chunk by chunk as the bytes arrive keeps a large body
 * from costing one long synchronous step on the event loop once it is whole (SECURITY M2).
 */
export function digestWhileStreaming(payload: Readable, hash: Hash | Hmac): Readable {
  const hashing = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
  // A client that goes away mid-body errors the parser's stream, as it would have errored the raw one.
  pipeline(payload, hashing, () => {});
  return hashing;
}
