import type { Queryable } from '../../../db/pool.js';
import { splitPlusAddress } from './email.addresses.js';
import { emailRepository as repo } from './email.repository.js';

/**
 * Which conversation an inbound email belongs to: an ordered list of checks, the first that
 * answers wins. Every check is bound to one workspace and one inbox, so another workspace's
 * Message-ID never threads (SECURITY E7), and a subject such as "[#1234]" is never read at all:
 * conversation numbers are guessable, reply tokens and Message-IDs are not.
 */
export interface ThreadInput {
  workspaceId: string;
  inboxId: string;
  /** The inbox's own addresses (to recognise support+TOKEN@...). */
  inboxAddresses: string[];
  /** Envelope recipients and the To/Cc/Delivered-To addresses, lower-cased. */
  recipients: string[];
  inReplyTo: string[];
  references: string[];
  threadRoot: string | null;
}

export interface ThreadMatch {
  conversationId: string;
  /** Which check matched: a reply token is a secret, the others are only hard to guess. */
  by: 'reply_token' | 'in_reply_to' | 'references' | 'thread_index';
}

type Check = (tx: Queryable, input: ThreadInput) => Promise<ThreadMatch | null>;

const REPLY_TOKEN = /^[a-z2-7]{26}$/;

export const threadChecks: { name: ThreadMatch['by']; check: Check }[] = [
  {
    name: 'reply_token',
    check: async (tx, input) => {
      for (const r of input.recipients) {
        const { base, tag } = splitPlusAddress(r);
        if (!tag || !REPLY_TOKEN.test(tag) || !input.inboxAddresses.includes(base)) continue;
        const id = await repo.conversationByToken(tx, input.workspaceId, input.inboxId, tag);
        if (id) return { conversationId: id, by: 'reply_token' };
      }
      return null;
    },
  },
  {
    name: 'in_reply_to',
    check: async (tx, input) => {
      const id = await repo.conversationByMessageIds(tx, input.workspaceId, input.inboxId, input.inReplyTo);
      return id ? { conversationId: id, by: 'in_reply_to' } : null;
    },
  },
  {
    // Outlook and some gateways rewrite In-Reply-To but keep References.
    name: 'references',
    check: async (tx, input) => {
      const id = await repo.conversationByMessageIds(tx, input.workspaceId, input.inboxId, [...input.references].reverse());
      return id ? { conversationId: id, by: 'references' } : null;
    },
  },
  {
    name: 'thread_index',
    check: async (tx, input) => {
      if (!input.threadRoot) return null;
      const id = await repo.conversationByThreadRoot(tx, input.workspaceId, input.inboxId, input.threadRoot);
      return id ? { conversationId: id, by: 'thread_index' } : null;
    },
  },
];

export async function findThread(tx: Queryable, input: ThreadInput): Promise<ThreadMatch | null> {
  for (const { check } of threadChecks) {
    const match = await check(tx, input);
    if (match) return match;
  }
  return null;
}
