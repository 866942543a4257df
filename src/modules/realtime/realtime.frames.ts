import * as wsModule from 'ws';
import type { WebSocket } from 'ws';

/** ws exports its Sender at run time (wrapper.mjs); @types/ws does not declare it. */
const Sender = (wsModule as unknown as { Sender: { frame(data: Buffer, options: Record<string, unknown>): Buffer[] } }).Sender;

/**
 * Fan-out frames encoded once for every socket (issue 14). `ws` frames a message per socket on every
 * send (a header buffer, then cork, two writes, uncork); a text frame the server sends is unmasked, so
 * its bytes are the same for every socket and can be built once: `preFrame` builds them with ws's own
 * `Sender.frame`, and `sendPreFramed` writes that one buffer to each socket's TCP stream.
 *
 * The direct write is only taken where it is exactly what `ws.send` would put on the wire: a server
 * socket that is OPEN, without permessage-deflate (off in realtime.module.ts), whose sender is idle
 * (nothing queued behind a compression or a Blob read, so frames stay in order). Otherwise, or if ws's
 * internals are not the ones this was written against (ws 8), it falls back to `socket.send(text)`.
 */
export interface FanOutFrame {
  /** The JSON text of the frame (for the fallback, and for sockets still replaying). */
  text: Buffer;
  /** Header + payload of one unmasked, final text frame. */
  framed: Buffer;
}

export function preFrame(text: Buffer): FanOutFrame {
  const parts = Sender.frame(text, { fin: true, opcode: 1, mask: false, readOnly: false, rsv1: false });
  return { text, framed: parts.length === 1 ? parts[0] : Buffer.concat(parts) };
}

/** What this relies on of ws 8's private fields (checked at each use: a different ws falls back). */
interface WsInternals {
  _isServer?: boolean;
  _extensions?: Record<string, unknown>;
  _sender?: { _state?: number; _queue?: unknown[] };
  _socket?: { write(data: Buffer): boolean; destroyed?: boolean };
}

const OPEN = 1;

export function sendPreFramed(socket: WebSocket, frame: FanOutFrame): void {
  const ws = socket as unknown as WsInternals;
  const sender = ws._sender;
  const tcp = ws._socket;
  if (
    socket.readyState === OPEN &&
    ws._isServer === true &&
    ws._extensions !== undefined &&
    Object.keys(ws._extensions).length === 0 &&
    sender?._state === 0 &&
    Array.isArray(sender._queue) &&
    sender._queue.length === 0 &&
    tcp &&
    !tcp.destroyed &&
    typeof tcp.write === 'function'
  ) {
    tcp.write(frame.framed);
    return;
  }
  socket.send(frame.text, { binary: false });
}
