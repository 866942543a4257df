import type { Pool, Queryable } from '../../db/pool.js';
import { defineError } from '../../lib/errors.js';
import type { OutboundGuard } from '../../lib/outbound/outbound.guard.js';

/** What a channel's settings check may use: the outbound guard, for hosts it will connect to. */
export interface ChannelContext {
  outbound: OutboundGuard;
}

/**
 * Channels behind one small interface. Outside this registry no code branches on a channel's name:
 * an inbox names its channel kind, and the adapter registered for that kind validates its settings,
 * hides its secrets in API answers, and (for channels that send) delivers replies.
 */
export interface ChannelAdapter {
  kind: string;
  description: string;
  /** Checks and normalizes an inbox's settings; throws a coded error when they are wrong. */
  validateSettings(settings: Record<string, unknown>, context: ChannelContext): Record<string, unknown> | Promise<Record<string, unknown>>;
  /** The settings as the API shows them: secrets replaced. */
  publicSettings(settings: Record<string, unknown>): Record<string, unknown>;
  /**
   * Runs inside the transaction that saves an inbox of this kind, after its row is written: the
   * channel keeps its own tables in step (the email channel claims its addresses) and may refuse
   * with a coded error, which rolls the save back.
   */
  inboxSaved?(tx: Queryable, pool: Pool, inbox: { workspaceId: string; inboxId: string; settings: Record<string, unknown>; at: Date }): Promise<void>;
}

export const channelErrors = {
  unknownChannel: defineError('inboxes.unknown_channel', 422, 'No such channel kind'),
  invalidSettings: defineError('inboxes.invalid_settings', 422, 'The inbox settings are not valid for this channel'),
};

export class ChannelRegistry {
  private adapters = new Map<string, ChannelAdapter>();

  register(adapter: ChannelAdapter): this {
    this.adapters.set(adapter.kind, adapter);
    return this;
  }

  get(kind: string): ChannelAdapter {
    const adapter = this.adapters.get(kind);
    if (!adapter) throw channelErrors.unknownChannel(`Known kinds: ${[...this.adapters.keys()].join(', ')}.`);
    return adapter;
  }

  kinds(): string[] {
    return [...this.adapters.keys()];
  }
}

/** The API channel: conversations created through the REST API; replies are read back through it. */
export const apiChannel: ChannelAdapter = {
  kind: 'api',
  description: 'Conversations created and answered through the REST API',
  validateSettings(settings) {
    if (Object.keys(settings).length > 0) throw channelErrors.invalidSettings('The api channel takes no settings.');
    return {};
  },
  publicSettings: () => ({}),
};
