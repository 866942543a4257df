import { createHash } from 'node:crypto';
import type { Pool, Queryable } from '../../db/pool.js';
import { inWorkspaceTx, withSystem } from '../../db/tenancy.js';
import type { Clock } from '../../lib/clock.js';
import { plainLabel } from '../../lib/labels.js';
import type { Visibility } from '../auth/roles.js';
import { principalOf, type WorkspaceContext } from '../context.js';
import { findMessageForChannel } from '../conversations/conversations.channels.js';
import { attachmentErrors } from './attachments.errors.js';
import { attachmentsRepository as repo, storedFileCtes, type AttachmentRow, type Owner } from './attachments.repository.js';
import type { AttachmentOwners } from './attachments.owners.js';
import type { AttachmentLimits } from './attachments.settings.js';

export type { AttachmentRow, Owner };
/** See attachmentsRepository: a file stored inside another module's statement. */
export { storedFileCtes };

/** The owner kind of a conversation message's files (channels attach to messages through it). */
export const MESSAGE_OWNER = 'message';

export interface Attachment {
  id: string;
  name: string;
  size: number;
  contentType: string;
}

export const attachmentOf = (r: AttachmentRow): Attachment => ({ id: r.id, name: r.filename, size: r.size, contentType: r.content_type });

export function sha256Of(data: Uint8Array): Buffer {
  return createHash('sha256').update(data).digest();
}

/** A type/subtype as RFC 6838 §4.2 allows it; parameters are dropped; anything else is plain bytes. */
const MEDIA_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/;

export function mediaTypeOf(header: string | undefined): string {
  const type = (header ?? '').split(';')[0].trim().toLowerCase();
  return MEDIA_TYPE.test(type) ? type : 'application/octet-stream';
}

export interface IncomingFile {
  content: Uint8Array;
  /** The checksum, when the caller already has it (hashed while streaming, or by a parser thread). */
  sha256?: Buffer;
  filename: string;
  contentType: string;
}

/**
 * Files that arrived with something (an inbound email's parts, later a chat visitor's image): the
 * bytes stored once per content, the rows owned at once, all in the caller's transaction.
 * Returns the attachment ids in the order of `files`.
 */
export async function storeFiles(tx: Queryable, input: { workspaceId: string; owner: Owner; files: IncomingFile[]; at: Date }): Promise<string[]> {
  const hashed = input.files.map((f) => ({ ...f, sha256: f.sha256 ?? sha256Of(f.content) }));
  await repo.putBlobs(tx, input.workspaceId, hashed, input.at);
  return repo.insert(
    tx,
    input.workspaceId,
    hashed.map((f) => ({ sha256: f.sha256, filename: f.filename, contentType: f.contentType, size: f.content.byteLength })),
    {
      owner: input.owner,
      uploader: null,
      at: input.at,
    },
  );
}

/**
 * A file a user or API token uploads before sending it (an email reply's attachment, later a chat
 * file or an article image). It is bound to the workspace and to that principal (SECURITY F3): only
 * they see it or attach it until it is sent, and the collector removes it if it never is. The
 * name is only metadata (F2): control characters and bidirectional overrides (which make "txt.exe"
 * read as "exe.txt") go.
 */
export async function uploadFile(
  deps: WorkspaceContext,
  input: { name: string; contentType: string | undefined; content: Buffer; sha256?: Buffer },
  limits: Pick<AttachmentLimits, 'maxPendingUploads'>,
): Promise<Attachment> {
  const name = plainLabel(input.name, 500);
  if (!name) throw attachmentErrors.invalidName('The name must have visible characters.');
  const contentType = mediaTypeOf(input.contentType);
  const uploader = principalOf(deps.actor);
  const sha256 = input.sha256 ?? sha256Of(input.content);
  const at = deps.clock.now();
  const [id] = await inWorkspaceTx(deps, async (tx) => {
    await repo.lockUploader(tx, deps.workspaceId, uploader);
    if ((await repo.pendingCount(tx, deps.workspaceId, uploader)) >= limits.maxPendingUploads) {
      throw attachmentErrors.tooManyPending(`At most ${limits.maxPendingUploads} uploads may wait to be sent.`);
    }
    await repo.putBlobs(tx, deps.workspaceId, [{ sha256, content: input.content }], at);
    return repo.insert(tx, deps.workspaceId, [{ sha256, filename: name, contentType, size: input.content.byteLength }], { owner: null, uploader, at });
  });
  return { id, name, size: input.content.byteLength, contentType };
}

/**
 * Attaches the caller's own unsent uploads to an owner, in the caller's transaction, in the order
 * given. Anything else among `ids` (unknown, another person's, another workspace's, already sent)
 * is one 404 (F3); the message limits are checked here, for every channel alike.
 */
export async function attachUploads(
  tx: Queryable,
  input: {
    workspaceId: string;
    uploader: string;
    ids: string[];
    owner: Owner;
    limits: Pick<AttachmentLimits, 'maxPerMessage' | 'maxMessageBytes'>;
  },
): Promise<Attachment[]> {
  const ids = [...new Set(input.ids.map((id) => id.toLowerCase()))];
  if (ids.length === 0) return [];
  if (ids.length > input.limits.maxPerMessage) throw attachmentErrors.tooMany(`At most ${input.limits.maxPerMessage} files per message.`);
  const rows = await repo.lockPendingUploads(tx, input.workspaceId, input.uploader, ids);
  if (rows.length !== ids.length) throw attachmentErrors.notFound();
  const total = rows.reduce((sum, r) => sum + r.size, 0);
  if (total > input.limits.maxMessageBytes) throw attachmentErrors.messageTooLarge(`The files of one message are limited to ${input.limits.maxMessageBytes} bytes together.`);
  await repo.setOwner(tx, input.workspaceId, ids, input.owner);
  const byId = new Map(rows.map((r) => [r.id, r]));
  return ids.map((id) => attachmentOf(byId.get(id)!));
}

/** Gives files already stored to another owner (an inbound email's parts, once their message exists). */
export async function transferFiles(tx: Queryable, input: { workspaceId: string; ids: string[]; owner: Owner }): Promise<void> {
  await repo.setOwner(tx, input.workspaceId, input.ids, input.owner);
}

export async function filesOf(tx: Queryable, workspaceId: string, owner: Owner): Promise<Attachment[]> {
  return (await repo.ofOwner(tx, workspaceId, owner)).map(attachmentOf);
}

/** The bytes of an owner's files, in order (a channel sending them). */
export async function contentsOf(tx: Queryable, workspaceId: string, owner: Owner): Promise<(Attachment & { content: Buffer })[]> {
  return (await repo.contentsOfOwner(tx, workspaceId, owner)).map((r) => ({ ...attachmentOf(r), content: r.content }));
}

/**
 * Whether a reader may see a conversation message's files: a client viewer never sees an internal
 * note, nor learns that one exists (its files answer 404 like a missing message's).
 */
async function messageVisible(tx: Queryable, workspaceId: string, messageId: string, visibility: Visibility): Promise<boolean> {
  const message = await findMessageForChannel(tx, workspaceId, messageId);
  return Boolean(message) && (visibility === 'internal' || message!.type !== 'note');
}

/** A conversation message's files; a message of another workspace is a 404 like a missing one. */
export async function listMessageAttachments(deps: WorkspaceContext, messageId: string, visibility: Visibility): Promise<{ items: Attachment[] }> {
  return inWorkspaceTx(deps, async (tx) => {
    if (!(await messageVisible(tx, deps.workspaceId, messageId, visibility))) throw attachmentErrors.messageNotFound();
    return { items: await filesOf(tx, deps.workspaceId, { kind: MESSAGE_OWNER, id: messageId }) };
  });
}

/** One attachment's bytes: any file owned in this workspace that the reader may see, or the caller's own unsent upload. */
export async function downloadAttachment(deps: WorkspaceContext, attachmentId: string, visibility: Visibility = 'internal'): Promise<Attachment & { content: Buffer }> {
  const row = await inWorkspaceTx(deps, async (tx) => {
    const found = await repo.downloadable(tx, deps.workspaceId, attachmentId, principalOf(deps.actor));
    if (!found) return undefined;
    // Fails closed for client viewers: only a message's files have a visibility rule (notes hidden);
    // other owners (an email's raw source, ...) are agents' material until their module says otherwise.
    if (visibility === 'client' && found.owner_kind !== MESSAGE_OWNER && found.owner_kind !== null) return undefined;
    if (found.owner_kind === MESSAGE_OWNER && !(await messageVisible(tx, deps.workspaceId, found.owner_id!, visibility))) return undefined;
    return found;
  });
  if (!row) throw attachmentErrors.notFound();
  return { ...attachmentOf(row), content: row.content };
}

/**
 * How long a blob nobody references is kept after it was last stored: longer than any transaction
 * lives, so bytes stored a moment before their attachment row commits are never taken.
 */
export const BLOB_GRACE_MS = 60 * 60 * 1000;
const BATCH = 1000;

/**
 * The collector: uploads never attached within their lifetime, attachments whose owner row is gone
 * (asked of the module that owns the kind, `owners`), then blobs no attachment references any more
 * (removed attachments, expired uploads, replaced files). Bounded batches, repeated until nothing is
 * left, so one run never holds a long transaction. A kind no module declares is left alone and named
 * in `unownedKinds`, for the caller to log.
 */
export async function collectUnused(deps: {
  pool: Pool;
  clock: Clock;
  uploadTtlMs: number;
  owners?: AttachmentOwners;
}): Promise<{ uploads: number; orphans: number; blobs: number; unownedKinds: string[] }> {
  const now = deps.clock.now().getTime();
  let uploads = 0;
  let blobs = 0;
  for (;;) {
    const n = await withSystem(deps.pool, (tx) => repo.deleteExpiredUploads(tx, new Date(now - deps.uploadTtlMs), BATCH));
    uploads += n;
    if (n < BATCH) break;
  }
  const { orphans, unownedKinds } = await collectOrphans(deps.pool, deps.owners ?? new Map());
  for (;;) {
    const n = await withSystem(deps.pool, (tx) => repo.deleteOrphanBlobs(tx, new Date(now - BLOB_GRACE_MS), BATCH));
    blobs += n;
    if (n < BATCH) break;
  }
  return { uploads, orphans, blobs, unownedKinds };
}

/**
 * Walks the owners attachments name, a page at a time, and deletes the attachments of those their
 * module no longer finds. Owner ids are never reused (random UUIDs), so an owner found gone stays
 * gone; an owner created in a transaction not yet committed has files this walk cannot see either.
 */
async function collectOrphans(pool: Pool, owners: AttachmentOwners): Promise<{ orphans: number; unownedKinds: string[] }> {
  let orphans = 0;
  const unowned = new Set<string>();
  let after: { workspaceId: string; kind: string; id: string } | null = null;
  for (;;) {
    const page = await withSystem(pool, async (tx) => {
      const rows = await repo.ownersPage(tx, after, BATCH);
      const groups = new Map<string, { ws: string; kind: string; ids: string[] }>();
      for (const r of rows) {
        const key = `${r.workspace_id}/${r.owner_kind}`;
        const group = groups.get(key) ?? { ws: r.workspace_id, kind: r.owner_kind, ids: [] };
        group.ids.push(r.owner_id);
        groups.set(key, group);
      }
      for (const g of groups.values()) {
        const existing = owners.get(g.kind);
        if (!existing) {
          unowned.add(g.kind);
          continue;
        }
        const alive = new Set((await existing(tx, g.ws, g.ids)).map((id) => id.toLowerCase()));
        orphans += await repo.deleteOfOwners(
          tx,
          g.ws,
          g.kind,
          g.ids.filter((id) => !alive.has(id)),
        );
      }
      return rows;
    });
    if (page.length < BATCH) break;
    const last = page[page.length - 1];
    after = { workspaceId: last.workspace_id, kind: last.owner_kind, id: last.owner_id };
  }
  return { orphans, unownedKinds: [...unowned] };
}
