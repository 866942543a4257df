import type { Queryable } from '../../db/pool.js';

/**
 * Attachments name their owner by kind and id, with no foreign key (an owner can be a message, an
 * email, later an article), so the module that owns a kind's rows tells the collector which owners
 * still exist: `existing` answers, among `ids` of one workspace, the ids whose row is still there.
 * It runs in the collector's system transaction, so its SQL must name the workspace itself.
 */
export interface AttachmentOwnerKind {
  kind: string;
  existing(tx: Queryable, workspaceId: string, ids: string[]): Promise<string[]>;
}

export type AttachmentOwners = ReadonlyMap<string, AttachmentOwnerKind['existing']>;

/** The kinds the running modules declare (RapportModule.attachmentOwners); a kind declared twice is a wiring error. */
export function attachmentOwnersOf(modules: readonly { name: string; attachmentOwners?: AttachmentOwnerKind[] }[]): AttachmentOwners {
  const owners = new Map<string, AttachmentOwnerKind['existing']>();
  for (const m of modules) {
    for (const o of m.attachmentOwners ?? []) {
      if (owners.has(o.kind)) throw new Error(`attachment owner kind "${o.kind}" is declared twice (module ${m.name})`);
      owners.set(o.kind, o.existing);
    }
  }
  return owners;
}
