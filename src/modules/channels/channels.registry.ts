import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { TSchema } from 'typebox';
import type { Pool, Queryable } from '../../db/pool.js';
import { defineError } from '../../lib/errors.js';
import type { Logger } from '../../lib/logger.js';
import type { OutboundGuard } from '../../lib/outbound/outbound.guard.js';
import type { WorkspaceContext } from '../context.js';
import type { MessageKind } from '../conversations/conversations.schemas.js';

// ajv-formats is CommonJS with a default export property.
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule) as unknown as (ajv: Ajv) => Ajv;

/** What a channel's settings check may use: the outbound guard, for hosts it will connect to. */
export interface ChannelContext {
  outbound: OutboundGuard;
}

/**
 * What a channel can carry. The agent app and automations read these instead of the channel's
 * name: whether a reply may hold HTML or files, how long after the customer's last message a reply
 * is still allowed (WhatsApp's 24 hours; null: always), and whether typing and read receipts exist.
 */
export interface ChannelCapabilities {
  html: boolean;
  attachments: boolean;
  replyWindowHours: number | null;
  typing: boolean;
  readReceipts: boolean;
}

/** Delivery states of an outbound message, in the order they can only move forward (failed ends it). */
export const DELIVERY_STATUSES = ['queued', 'sent', 'delivered', 'read', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** A reply as the outbound job hands it to a channel: committed rows, the same on every attempt. */
export interface OutboundMessage {
  /** Stable across attempts: give it to the provider as its idempotency key, so a retry after a crash sends once. */
  deliveryId: string;
  messageId: string;
  conversationId: string;
  body: string;
  /** Only when the channel declares `capabilities.html`. */
  html: string | null;
  author: { type: string; name: string | null };
  customer: { id: string; name: string | null; identities: { kind: string; value: string }[] };
  /** Whatever the channel noted on the message when it was written (metadata[kind]). */
  metadata: Record<string, unknown>;
}

export interface SendContext {
  workspaceId: string;
  inboxId: string;
  settings: Record<string, unknown>;
  /** 1 for the first try. */
  attempt: number;
  /** Every connection to a provider goes through it (SECURITY M4, W4). */
  outbound: OutboundGuard;
  log: Logger;
  /** What the channel's `prepare` returned for this attempt (undefined without one). */
  prepared?: unknown;
}

/** What the queue and prepare hooks get: the delivery's inbox and a system context for writes in the caller's transaction. */
export interface QueueContext {
  workspaceId: string;
  inboxId: string;
  settings: Record<string, unknown>;
  /** The caller's transaction's clock and pool, acting as the system (metadata notes, events). */
  context: WorkspaceContext;
}

export interface QueueResult {
  /**
   * The provider's id when the channel fixes it before sending (email: its Message-ID): recorded
   * with the queued delivery, so a receipt that arrives before `send` returns finds it.
   */
  providerId?: string | null;
  /**
   * The channel already settled this delivery itself (email: an older version's own job sent or
   * failed it before an upgrade): recorded as is, and no attempt is queued, so nothing goes twice.
   */
  settled?: { status: 'sent' | 'failed'; reason: string | null };
}

export interface SendResult {
  /** The provider's id of the message: its delivery receipts name it. */
  providerId: string | null;
  status: 'sent' | 'delivered';
}

/**
 * Thrown by `send` with a stable reason code agents may see (never a provider's own words). A
 * permanent refusal fails the delivery at once; anything else is retried with backoff.
 */
export class ChannelSendError extends Error {
  constructor(
    readonly reason: string,
    readonly permanent = false,
    message?: string,
  ) {
    super(message ?? reason);
  }
}

/** What a channel received, normalised: one shape for the one conversation-ingest path. */
export interface InboundMessage {
  /** The provider's id of the message: a webhook delivered twice stores one message. */
  providerId: string;
  /** Who wrote it, as an identity of a kind the channel registered (or a core one). */
  identity: { kind: string; value: string };
  name?: string;
  subject?: string | null;
  body: string;
  html?: string;
  kind?: MessageKind;
  /** Stored as metadata[channel kind]. */
  metadata?: Record<string, unknown>;
}

export type WebhookEvent = { type: 'message'; message: InboundMessage } | { type: 'delivery'; providerId: string; status: Exclude<DeliveryStatus, 'queued'>; reason?: string };

/** What a signature check vouches for beyond "signed by the inbox's secret". */
export interface WebhookVerified {
  /** The time the provider signed the call; null when the call carries none (refused as stale). */
  signedAt: Date | null;
  /** The provider's id of this delivery (the same on a retry of the same call). */
  deliveryId?: string;
}

export interface WebhookRequest {
  /** The body exactly as it arrived: signatures are computed over these bytes. */
  raw: Buffer;
  headers: Record<string, string | string[] | undefined>;
}

/**
 * Channels behind one interface. Outside this registry no code branches on a channel's name: an
 * inbox names its channel kind, and the adapter registered for that kind validates its settings,
 * hides its secrets in API answers, turns what arrives into InboundMessages, sends replies through
 * the one outbound job (channels.outbound.ts) and reads its provider's webhooks.
 */
export interface ChannelDefinition {
  kind: string;
  description: string;
  capabilities: ChannelCapabilities;
  /**
   * The settings as a TypeBox schema: the registry validates them before anything else. A string
   * property marked `{ secret: true }` is replaced by '********' in API answers.
   */
  settingsSchema?: TSchema;
  /** Checks beyond the schema, and normalisation; throws a coded error when they are wrong. */
  validateSettings?(settings: Record<string, unknown>, context: ChannelContext): Record<string, unknown> | Promise<Record<string, unknown>>;
  /** The settings as the API shows them, when masking the schema's secrets is not enough. */
  publicSettings?(settings: Record<string, unknown>): Record<string, unknown>;
  /** Identity kinds the channel's customers have (whatsapp, telegram, ...): registered at start-up. */
  identityKinds?: { kind: string; description: string }[];
  /**
   * Runs inside the transaction that saves an inbox of this kind, after its row is written: the
   * channel keeps its own tables in step (the email channel claims its addresses) and may refuse
   * with a coded error, which rolls the save back.
   */
  inboxSaved?(tx: Queryable, pool: Pool, inbox: { workspaceId: string; inboxId: string; settings: Record<string, unknown>; at: Date }): Promise<void>;
  /** Channels that send, through the one outbound job (channels.outbound.ts). */
  outbound?: {
    /**
     * Optional, in the transaction that queues the reply, once per delivery (a redelivered event
     * never reaches it twice): the channel fixes what must be the same on every attempt and keeps
     * its own record (email: the Message-ID, and its email_messages row that threads later replies).
     * A permanent ChannelSendError fails the delivery before any attempt (what the hook wrote stays).
     */
    queue?(tx: Queryable, message: OutboundMessage, ctx: QueueContext): Promise<QueueResult | undefined>;
    /**
     * Optional, in the job's read transaction before each attempt: what `send` needs from the
     * channel's own tables (email: thread headers, reply token, the files' bytes), handed to it as
     * `ctx.prepared`, so `send` itself runs outside any transaction.
     */
    prepare?(tx: Queryable, message: OutboundMessage, ctx: QueueContext): Promise<unknown>;
    /** Run by the outbound job, outside any transaction. */
    send(message: OutboundMessage, ctx: SendContext): Promise<SendResult>;
    /** Attempts before the delivery is failed (dead-lettered), and the first backoff (doubling). */
    retry?: { maxAttempts?: number; baseDelayMs?: number; maxDelayMs?: number };
    /**
     * Reasons of a failure that no retry can change: what `queue` fixed for every attempt (email: the
     * recipients) is what was refused. "Retry now" on such a delivery is refused
     * (`channels.delivery_not_retryable`) instead of failing again.
     */
    notRetryable?: readonly string[];
  };
  /** Channels whose provider calls back: POST /api/v1/channels/{kind}/webhooks/{inboxId}. */
  webhook?: {
    /**
     * Checks the signature over the raw body; must compare in constant time (see verifyHmacSha256).
     * false refuses the call. A provider that signs a timestamp answers `{ signedAt }` (read from the
     * signed bytes only): the core refuses one outside five minutes of its clock. `deliveryId`, when
     * the provider signs one, keys replay protection; without it the key is a hash of the signed bytes.
     */
    verify(request: WebhookRequest, settings: Record<string, unknown>): boolean | WebhookVerified;
    /** What the call says: messages that arrived, delivery receipts. Throws a coded error when unreadable. */
    parse(request: WebhookRequest, settings: Record<string, unknown>): WebhookEvent[];
  };
}

/** A registered channel: its definition with settings checks and public view always present. */
export interface ChannelAdapter extends ChannelDefinition {
  validateSettings(settings: Record<string, unknown>, context: ChannelContext): Promise<Record<string, unknown>>;
  publicSettings(settings: Record<string, unknown>): Record<string, unknown>;
}

export const channelErrors = {
  unknownChannel: defineError('inboxes.unknown_channel', 422, 'No such channel kind'),
  invalidSettings: defineError('inboxes.invalid_settings', 422, 'The inbox settings are not valid for this channel'),
};

/** What API answers show in place of a secret setting (SECRET_MASK), for every channel. */
export const SECRET_MASK = '********';
const SECRET = SECRET_MASK;

/**
 * A client that read an inbox (secrets masked) and sends its settings back unchanged must not turn
 * the mask into the secret: a webhook secret of '********' is one anybody can sign with (found in
 * review). Each masked string is replaced by the stored value at the same path; a mask with nothing
 * stored behind it is refused. Works on the settings' shape, so channels with a hand-written
 * publicSettings (email's passwords) are covered too.
 */
export function restoreMaskedSecrets(incoming: unknown, current: unknown, path = 'settings', movedTo?: string): unknown {
  if (incoming === SECRET) {
    // A stored password goes only where it was saved for: with another server or user beside it, the
    // mask would hand the secret to whoever that server is (an admin session taken over, a typo).
    if (movedTo) throw channelErrors.invalidSettings(`${path}: enter the secret again: the ${movedTo} changed, and a saved secret is only sent to the server it was saved for.`);
    if (typeof current === 'string' && current !== '') return current;
    throw channelErrors.invalidSettings(`${path}: send the secret itself; '${SECRET}' is how answers hide it.`);
  }
  if (Array.isArray(incoming)) return incoming.map((v, i) => restoreMaskedSecrets(v, Array.isArray(current) ? current[i] : undefined, `${path}.${i}`));
  if (incoming && typeof incoming === 'object') {
    const base = current && typeof current === 'object' && !Array.isArray(current) ? (current as Record<string, unknown>) : {};
    const fields = incoming as Record<string, unknown>;
    // Turning encryption off beside a mask would send the saved secret in clear text: asked again too.
    const downgraded = fields.tls === 'none' && 'tls' in base && base.tls !== 'none' ? 'encryption (tls)' : undefined;
    const moved = DESTINATION_FIELDS.find((k) => k in fields && k in base && fields[k] !== base[k]) ?? downgraded;
    return Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, restoreMaskedSecrets(v, base[k], `${path}.${k}`, moved)]));
  }
  return incoming;
}

/** Fields that say where a secret beside them is sent: changing one (or `tls` to 'none') asks for the secret again. */
const DESTINATION_FIELDS = ['host', 'user', 'username', 'url'];

const ajv = new Ajv({ coerceTypes: false, useDefaults: true, removeAdditional: false, allErrors: false, strict: false });
addFormats(ajv);

/** Replaces every string the schema marks `secret: true` (any depth of objects, arrays and unions). */
export function maskSecrets(schema: TSchema | undefined, value: unknown): unknown {
  const s = schema as { secret?: boolean; type?: string; properties?: Record<string, TSchema>; items?: TSchema; anyOf?: TSchema[]; allOf?: TSchema[]; oneOf?: TSchema[] } | undefined;
  if (!s) return value;
  if (s.secret && typeof value === 'string' && value !== '') return SECRET;
  // A union: mask what any branch calls secret (a branch that does not describe the value masks nothing).
  for (const branches of [s.anyOf, s.allOf, s.oneOf]) {
    if (branches) value = branches.reduce((v, b) => maskSecrets(b, v), value);
  }
  if (s.items && Array.isArray(value)) return value.map((v) => maskSecrets(s.items, v));
  if (s.properties && value && typeof value === 'object' && !Array.isArray(value)) {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, maskSecrets(s.properties![k], v)]));
  }
  return value;
}

function bind(def: ChannelDefinition): ChannelAdapter {
  let check: ValidateFunction | null = null;
  return {
    ...def,
    async validateSettings(settings, context) {
      if (def.settingsSchema) {
        check ??= ajv.compile(def.settingsSchema as object);
        // Defaults are filled in on a copy: the caller's object stays as sent.
        const copy = structuredClone(settings);
        if (!check(copy)) {
          const e = check.errors?.[0];
          throw channelErrors.invalidSettings(`settings${e?.instancePath.replaceAll('/', '.') ?? ''} ${e?.message ?? 'is not valid'}.`);
        }
        settings = copy;
      }
      return def.validateSettings ? def.validateSettings(settings, context) : settings;
    },
    publicSettings(settings) {
      if (def.publicSettings) return def.publicSettings(settings);
      return maskSecrets(def.settingsSchema, settings) as Record<string, unknown>;
    },
  };
}

export class ChannelRegistry {
  private adapters = new Map<string, ChannelAdapter>();

  register(definition: ChannelDefinition): this {
    if (this.adapters.has(definition.kind)) throw new Error(`channel "${definition.kind}" is registered twice`);
    this.adapters.set(definition.kind, bind(definition));
    return this;
  }

  get(kind: string): ChannelAdapter {
    const adapter = this.adapters.get(kind);
    if (!adapter) throw channelErrors.unknownChannel(`Known kinds: ${[...this.adapters.keys()].join(', ')}.`);
    return adapter;
  }

  /** The adapter, or undefined: for paths that answer "not found" rather than "unknown kind". */
  find(kind: string): ChannelAdapter | undefined {
    return this.adapters.get(kind);
  }

  kinds(): string[] {
    return [...this.adapters.keys()];
  }

  /** Every identity kind the registered channels declare. */
  identityKinds(): { kind: string; description: string }[] {
    return [...this.adapters.values()].flatMap((a) => a.identityKinds ?? []);
  }
}

/** The API channel: conversations created through the REST API; replies are read back through it. */
export const apiChannel: ChannelDefinition = {
  kind: 'api',
  description: 'Conversations created and answered through the REST API',
  capabilities: { html: true, attachments: false, replyWindowHours: null, typing: false, readReceipts: false },
  validateSettings(settings) {
    if (Object.keys(settings).length > 0) throw channelErrors.invalidSettings('The api channel takes no settings.');
    return {};
  },
  publicSettings: () => ({}),
};
