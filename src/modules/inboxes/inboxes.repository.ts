import type { Queryable } from '../../db/pool.js';

export interface InboxRow {
  id: string;
  name: string;
  channel: string;
  settings: Record<string, unknown>;
  created_at: Date;
  disabled_at: Date | null;
}

/**
 * A subquery for a statement another module writes (conversation creation puts it in its one CTE, so
 * choosing the inbox costs no round trip of its own): the inbox `idParam` names in workspace
 * `wsParam`, or, when `idParam` is null, the oldest API inbox. Yields (id, channel); no row when
 * neither exists.
 */
export const inboxForNewConversationSql = (wsParam: string, idParam: string) => `(
  (select id, channel from inboxes where workspace_id = ${wsParam} and id = ${idParam}::uuid)
  union all
  (select id, channel from inboxes where ${idParam}::uuid is null and workspace_id = ${wsParam} and channel = 'api' order by created_at, id limit 1))`;

export const inboxesRepository = {
  async insert(tx: Queryable, i: { workspaceId: string; name: string; channel: string; settings: Record<string, unknown>; at: Date }): Promise<string> {
    const { rows } = await tx.query<{ id: string }>('insert into inboxes (workspace_id, name, channel, settings, created_at) values ($1, $2, $3, $4, $5) returning id', [
      i.workspaceId,
      i.name,
      i.channel,
      JSON.stringify(i.settings),
      i.at,
    ]);
    return rows[0].id;
  },

  // Named prepared statements: both run on every conversation create (bench/write-path.bench.ts).
  async channelOf(tx: Queryable, ws: string, inboxId: string): Promise<string | undefined> {
    const { rows } = await tx.query<{ channel: string }>({ name: 'inboxes.channel_of', text: 'select channel from inboxes where workspace_id = $1 and id = $2', values: [ws, inboxId] });
    return rows[0]?.channel;
  },

  async defaultApiInbox(tx: Queryable, ws: string): Promise<string | undefined> {
    const { rows } = await tx.query<{ id: string }>({
      name: 'inboxes.default_api',
      text: "select id from inboxes where workspace_id = $1 and channel = 'api' order by created_at, id limit 1",
      values: [ws],
    });
    return rows[0]?.id;
  },

  async find(tx: Queryable, ws: string, id: string): Promise<InboxRow | undefined> {
    const { rows } = await tx.query<InboxRow>('select id, name, channel, settings, created_at, disabled_at from inboxes where workspace_id = $1 and id = $2', [ws, id]);
    return rows[0];
  },

  /** Any workspace's enabled inbox by id (system context): a provider's webhook names only the inbox; a disabled one takes nothing. */
  async findAnywhere(tx: Queryable, id: string): Promise<(InboxRow & { workspace_id: string }) | undefined> {
    const { rows } = await tx.query<InboxRow & { workspace_id: string }>(
      'select workspace_id, id, name, channel, settings, created_at, disabled_at from inboxes where id = $1 and disabled_at is null',
      [id],
    );
    return rows[0];
  },

  async list(tx: Queryable, ws: string): Promise<InboxRow[]> {
    const { rows } = await tx.query<InboxRow>('select id, name, channel, settings, created_at, disabled_at from inboxes where workspace_id = $1 order by created_at, id', [ws]);
    return rows;
  },

  async update(tx: Queryable, ws: string, id: string, i: { name: string; settings: Record<string, unknown> }): Promise<boolean> {
    const { rowCount } = await tx.query('update inboxes set name = $3, settings = $4 where workspace_id = $1 and id = $2', [ws, id, i.name, JSON.stringify(i.settings)]);
    return (rowCount ?? 0) > 0;
  },

  /** Sets or clears `disabled_at`; false when the inbox is not there. */
  async setDisabled(tx: Queryable, ws: string, id: string, at: Date | null): Promise<boolean> {
    const { rowCount } = await tx.query('update inboxes set disabled_at = $3 where workspace_id = $1 and id = $2', [ws, id, at]);
    return (rowCount ?? 0) > 0;
  },

  /** Whether the inbox sends replies (it exists and is not disabled). */
  async isDisabled(tx: Queryable, ws: string, id: string): Promise<boolean> {
    const { rows } = await tx.query<{ disabled: boolean }>({
      name: 'inboxes.is_disabled',
      text: 'select disabled_at is not null as disabled from inboxes where workspace_id = $1 and id = $2',
      values: [ws, id],
    });
    return rows[0]?.disabled ?? false;
  },

  /**
   * Deletes the inbox; its channel's own rows go with it (their foreign keys cascade). Conversations
   * reference inboxes without a cascade, so an inbox that holds any makes this fail (23503): the
   * service turns that into `inboxes.has_conversations`.
   */
  async delete(tx: Queryable, ws: string, id: string): Promise<boolean> {
    const { rowCount } = await tx.query('delete from inboxes where workspace_id = $1 and id = $2', [ws, id]);
    return (rowCount ?? 0) > 0;
  },
};
