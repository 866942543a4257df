import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { Type, type Static } from 'typebox';
import { Nullable, Strict, Uuid } from '../../http/schemas.js';

/**
 * The realtime wire protocol, one JSON object per text frame. The web app and the tests rely on these
 * names; fields may be added, never renamed.
 *
 *   GET /api/v1/realtime?workspaceId=<uuid>&lastEventId=<id>   (WebSocket upgrade)
 *
 * Server -> client: ready, event, presence, reset, pong, error.
 * Client -> server: view, typing, ping.
 */

export const RealtimeQuery = Type.Object({
  // Checked by hand so that a malformed id is refused exactly like another workspace's id (4404).
  workspaceId: Type.String({ maxLength: 100 }),
  lastEventId: Type.Optional(Type.String({ pattern: '^[0-9]{1,18}$', description: 'resume after this event id' })),
});
export type RealtimeQuery = Static<typeof RealtimeQuery>;

// ---- client -> server ------------------------------------------------------------------------
export const ViewFrame = Strict({ type: Type.Literal('view'), conversationId: Nullable(Uuid) });
export const TypingFrame = Strict({ type: Type.Literal('typing'), conversationId: Uuid, typing: Type.Boolean() });
export const PingFrame = Strict({ type: Type.Literal('ping') });
export const ClientFrame = Type.Union([ViewFrame, TypingFrame, PingFrame]);
export type ClientFrame = Static<typeof ClientFrame>;

// ---- server -> client ------------------------------------------------------------------------
export const EventPayload = Type.Object({
  id: Type.String({ description: 'event id (a decimal string); keep the highest seen as lastEventId' }),
  type: Type.String(),
  conversationId: Nullable(Type.String()),
  actor: Type.Object({ type: Type.String(), id: Nullable(Type.String()) }),
  data: Type.Record(Type.String(), Type.Unknown()),
  createdAt: Type.String(),
});
export const ReadyFrame = Type.Object({ type: Type.Literal('ready'), lastEventId: Type.String(), replayed: Type.Optional(Type.Integer()) });
export const EventFrame = Type.Object({
  type: Type.Literal('event'),
  event: EventPayload,
  /**
   * Agents only, on events of a conversation: the conversation as GET /conversations/:id shows it,
   * read when the event was delivered (so at least as new as the event), for patching cached lists
   * and detail without a refetch. Absent when it could not be read.
   */
  conversation: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
});
export const Viewer = Type.Object({ userId: Type.String(), name: Type.String(), typing: Type.Boolean() });
export const PresenceFrame = Type.Object({ type: Type.Literal('presence'), conversationId: Type.String(), viewers: Type.Array(Viewer) });
export const ResetFrame = Type.Object({ type: Type.Literal('reset') });
export const PongFrame = Type.Object({ type: Type.Literal('pong') });
export const ErrorFrame = Type.Object({ type: Type.Literal('error'), code: Type.String(), detail: Type.Optional(Type.String()) });
export const ServerFrame = Type.Union([ReadyFrame, EventFrame, PresenceFrame, ResetFrame, PongFrame, ErrorFrame]);
export type ServerFrame = Static<typeof ServerFrame>;
export type EventPayload = Static<typeof EventPayload>;
export type Viewer = Static<typeof Viewer>;

/** Error codes sent in `{"type":"error","code"}` frames; the connection stays open after these. */
export const frameErrors = {
  badFrame: 'realtime.bad_frame',
  conversationNotFound: 'conversations.not_found',
  notViewing: 'realtime.not_viewing',
  needsUser: 'realtime.needs_user',
  forbidden: 'auth.forbidden',
} as const;

/**
 * Close codes. 1xxx are the standard ones (RFC 6455 §7.4.1); 4xxx are ours and mirror HTTP statuses
 * so a client can switch on them: 4401 sign in again, 4404 no such workspace (also: not a member),
 * 4429 too many frames, 4408 slow consumer (reconnect and resume). 1013 (Try Again Later) refuses a
 * socket over the per-person, per-token or per-address limit.
 */
export const CloseCodes = {
  goingAway: 1001,
  /** The member's role changed audience (e.g. agent to client viewer): reconnect at once. */
  reconnect: 1012,
  unsupportedData: 1003,
  /** Too many sockets for this person, token or address (M1); retry later, after closing some tabs. */
  tryAgainLater: 1013,
  invalidPayload: 1007,
  tooBig: 1009,
  unauthenticated: 4401,
  notFound: 4404,
  slowConsumer: 4408,
  rateLimited: 4429,
} as const;

/** Largest client frame accepted; anything bigger closes the connection (1009). */
export const MAX_CLIENT_FRAME_BYTES = 64 * 1024;

const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule) as unknown as (ajv: Ajv) => Ajv;
const ajv = addFormats(new Ajv({ strict: false, allErrors: false, coerceTypes: false, removeAdditional: false }));
const checkClientFrame = ajv.compile<ClientFrame>(ClientFrame as object);

export type ParsedFrame = { ok: true; frame: ClientFrame } | { ok: false; reason: 'not_json' | 'invalid' };

/** Parses one text frame: not JSON is a protocol violation (close); JSON of the wrong shape is answered. */
export function parseClientFrame(text: string): ParsedFrame {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'not_json' };
  }
  return checkClientFrame(value) ? { ok: true, frame: value } : { ok: false, reason: 'invalid' };
}
