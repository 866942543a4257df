import { randomUUID } from 'node:crypto';
import type { Queryable } from '../../db/pool.js';

/** The only SQL of the attachments module. Every statement names workspace_id, except the collector's, which runs in a system context. */
export interface AttachmentRow {
  id: string;
  filename: string;
  content_type: string;
  size: number;
}

export interface Owner {
  /** 'message' for a conversation message; a channel or module may use a kind of its own. */
  kind: string;
  id: string;
}

export interface NewAttachment {
  sha256: Buffer;
  filename: string;
  contentType: string;
  size: number;
}

/**
 * One file stored inside another module's statement, for a path that counts its round trips (an
 * inbound email's raw source, stored with its email row before the SMTP 250): `bytes` stores the
 * blob (as putBlobs does, touching it when it is there), `file` its attachment row owned by each row
 * of the caller's CTE `owner` (a CTE with an `id` column, listed after `bytes`; no row, no file).
 * The arguments are the caller's placeholders and CTE name, never values.
 */
export const storedFileCtes = (p: { ws: string; sha256: string; size: string; content: string; filename: string; contentType: string; ownerKind: string; owner: string; at: string }) => ({
  bytes: `insert into blobs (workspace_id, sha256, size, content, created_at, touched_at) values (${p.ws}, ${p.sha256}, ${p.size}, ${p.content}, ${p.at}, ${p.at})
     on conflict (workspace_id, sha256) do update set touched_at = excluded.touched_at`,
  file: `insert into attachments (workspace_id, sha256, filename, content_type, size, owner_kind, owner_id, position, uploader, created_at)
     select ${p.ws}, ${p.sha256}, ${p.filename}, ${p.contentType}, ${p.size}, ${p.ownerKind}, o.id, 0, null, ${p.at} from ${p.owner} o`,
});

const COLUMNS = 'id, filename, content_type, size';

export const attachmentsRepository = {
  /**
   * Stores bytes once per (workspace, hash). Storing them again touches the row: that both locks it
   * until this transaction ends and moves touched_at forward, so a collector running at the same
   * moment cannot delete a blob this transaction is about to reference.
   */
  async putBlobs(tx: Queryable, ws: string, blobs: { sha256: Buffer; content: Uint8Array }[], at: Date): Promise<void> {
    if (blobs.length === 0) return;
    const unique = [...new Map(blobs.map((b) => [b.sha256.toString('hex'), b])).values()];
    await tx.query(
      `insert into blobs (workspace_id, sha256, size, content, created_at, touched_at)
       select $1, h, s, c, $5, $5 from unnest($2::bytea[], $3::int[], $4::bytea[]) as t(h, s, c)
       on conflict (workspace_id, sha256) do update set touched_at = excluded.touched_at`,
      [ws, unique.map((b) => b.sha256), unique.map((b) => b.content.byteLength), unique.map((b) => Buffer.from(b.content.buffer, b.content.byteOffset, b.content.byteLength)), at],
    );
  },

  /**
   * Attachment rows for stored blobs, in order. The ids are made here (random v4 UUIDs, as the
   * column default would) so the caller gets them in its own order without relying on RETURNING's.
   */
  async insert(tx: Queryable, ws: string, list: NewAttachment[], o: { owner: Owner | null; uploader: string | null; at: Date }): Promise<string[]> {
    if (list.length === 0) return [];
    const ids = list.map(() => randomUUID());
    await tx.query(
      `insert into attachments (workspace_id, id, sha256, filename, content_type, size, owner_kind, owner_id, position, uploader, created_at)
       select $1, i, h, f, ct, s, $7, $8, case when $7::text is null then null else (p - 1)::int end, $9, $10
       from unnest($2::uuid[], $3::bytea[], $4::text[], $5::text[], $6::int[]) with ordinality as t(i, h, f, ct, s, p)`,
      [ws, ids, list.map((a) => a.sha256), list.map((a) => a.filename), list.map((a) => a.contentType), list.map((a) => a.size), o.owner?.kind ?? null, o.owner?.id ?? null, o.uploader, o.at],
    );
    return ids;
  },

  async pendingCount(tx: Queryable, ws: string, uploader: string): Promise<number> {
    const { rows } = await tx.query<{ n: number }>('select count(*)::int as n from attachments where workspace_id = $1 and uploader = $2 and owner_kind is null', [ws, uploader]);
    return rows[0].n;
  },

  /** Serializes one principal's uploads, so two at once cannot both pass the pending quota. */
  async lockUploader(tx: Queryable, ws: string, uploader: string): Promise<void> {
    await tx.query(`select pg_advisory_xact_lock(hashtext('attachments-uploader:' || $1::text || ':' || $2::text))`, [ws, uploader]);
  },

  /** The principal's unsent uploads among `ids`, locked until the caller commits (so one upload is attached once). */
  async lockPendingUploads(tx: Queryable, ws: string, uploader: string, ids: string[]): Promise<AttachmentRow[]> {
    const { rows } = await tx.query<AttachmentRow>(
      `select ${COLUMNS} from attachments
       where workspace_id = $1 and uploader = $2 and id = any($3::uuid[]) and owner_kind is null
       for update`,
      [ws, uploader, ids],
    );
    return rows;
  },

  /** Gives `ids` to an owner, positions in the order of `ids`. */
  async setOwner(tx: Queryable, ws: string, ids: string[], owner: Owner): Promise<void> {
    if (ids.length === 0) return;
    await tx.query(
      `update attachments set owner_kind = $3, owner_id = $4, position = (array_position($2::uuid[], id) - 1)
       where workspace_id = $1 and id = any($2::uuid[])`,
      [ws, ids, owner.kind, owner.id],
    );
  },

  async ofOwner(tx: Queryable, ws: string, owner: Owner): Promise<AttachmentRow[]> {
    const { rows } = await tx.query<AttachmentRow>(`select ${COLUMNS} from attachments where workspace_id = $1 and owner_kind = $2 and owner_id = $3 order by position, id`, [
      ws,
      owner.kind,
      owner.id,
    ]);
    return rows;
  },

  async contentsOfOwner(tx: Queryable, ws: string, owner: Owner): Promise<(AttachmentRow & { content: Buffer })[]> {
    const { rows } = await tx.query<AttachmentRow & { content: Buffer }>(
      `select a.id, a.filename, a.content_type, a.size, b.content from attachments a
       join blobs b on b.workspace_id = a.workspace_id and b.sha256 = a.sha256
       where a.workspace_id = $1 and a.owner_kind = $2 and a.owner_id = $3 order by a.position, a.id`,
      [ws, owner.kind, owner.id],
    );
    return rows;
  },

  /** A downloadable attachment: any owned one, or an unsent upload for its uploader only. */
  async downloadable(tx: Queryable, ws: string, id: string, principal: string) {
    const { rows } = await tx.query<AttachmentRow & { content: Buffer; owner_kind: string | null; owner_id: string | null }>(
      `select a.id, a.filename, a.content_type, a.size, a.owner_kind, a.owner_id, b.content from attachments a
       join blobs b on b.workspace_id = a.workspace_id and b.sha256 = a.sha256
       where a.workspace_id = $1 and a.id = $2 and (a.owner_kind is not null or a.uploader = $3)`,
      [ws, id, principal],
    );
    return rows[0];
  },

  async blobContent(tx: Queryable, ws: string, sha256: Buffer): Promise<Buffer | undefined> {
    const { rows } = await tx.query<{ content: Buffer }>('select content from blobs where workspace_id = $1 and sha256 = $2', [ws, sha256]);
    return rows[0]?.content;
  },

  // The collector (system context: it serves every workspace).
  async deleteExpiredUploads(tx: Queryable, createdBefore: Date, limit: number): Promise<number> {
    const { rowCount } = await tx.query(
      `delete from attachments where ctid in (
         select ctid from attachments where owner_kind is null and created_at < $1 limit $2 for update skip locked)`,
      [createdBefore, limit],
    );
    return rowCount ?? 0;
  },

  /**
   * One page of distinct owners after `after`, in the order of attachments_owner_idx (workspace,
   * kind, id), so the walk is a range scan of that index and resumes where the last page ended.
   */
  async ownersPage(tx: Queryable, after: { workspaceId: string; kind: string; id: string } | null, limit: number): Promise<{ workspace_id: string; owner_kind: string; owner_id: string }[]> {
    const { rows } = await tx.query<{ workspace_id: string; owner_kind: string; owner_id: string }>(
      `select distinct workspace_id, owner_kind, owner_id from attachments
       where owner_kind is not null and ($1::uuid is null or (workspace_id, owner_kind, owner_id) > ($1::uuid, $2::text, $3::uuid))
       order by workspace_id, owner_kind, owner_id limit $4`,
      [after?.workspaceId ?? null, after?.kind ?? null, after?.id ?? null, limit],
    );
    return rows;
  },

  /** The attachments of owners that are gone (their blobs go with the orphan-blob pass). */
  async deleteOfOwners(tx: Queryable, ws: string, kind: string, ids: string[]): Promise<number> {
    if (ids.length === 0) return 0;
    const { rowCount } = await tx.query('delete from attachments where workspace_id = $1 and owner_kind = $2 and owner_id = any($3::uuid[])', [ws, kind, ids]);
    return rowCount ?? 0;
  },

  /**
   * Blobs no attachment references and nobody stored since `touchedBefore`. A blob being stored
   * again right now is locked by that insert: the delete waits, re-reads touched_at and spares it.
   */
  async deleteOrphanBlobs(tx: Queryable, touchedBefore: Date, limit: number): Promise<number> {
    const { rowCount } = await tx.query(
      `delete from blobs b where b.touched_at < $1 and (b.workspace_id, b.sha256) in (
         select o.workspace_id, o.sha256 from blobs o
         where o.touched_at < $1 and not exists (select 1 from attachments a where a.workspace_id = o.workspace_id and a.sha256 = o.sha256)
         limit $2)`,
      [touchedBefore, limit],
    );
    return rowCount ?? 0;
  },
};
