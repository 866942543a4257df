import type { Queryable } from '../../db/pool.js';
import type { SavedViewFilters } from './views.schemas.js';

export interface SavedViewRow {
  id: string;
  owner_id: string;
  name: string;
  filters: SavedViewFilters;
  shared: boolean;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = 'id, owner_id, name, filters, shared, created_at, updated_at';

/** The only SQL of saved views. Every statement names workspace_id. */
export const savedViewsRepository = {
  /** A member's own views and the shared ones (`ownerId` null: the shared ones only), by name. */
  async listVisible(tx: Queryable, ws: string, ownerId: string | null): Promise<SavedViewRow[]> {
    const { rows } = await tx.query<SavedViewRow>(`select ${COLUMNS} from saved_views where workspace_id = $1 and (shared or owner_id = $2::uuid) order by lower(name), id limit 500`, [ws, ownerId]);
    return rows;
  },

  async find(tx: Queryable, ws: string, id: string): Promise<SavedViewRow | undefined> {
    const { rows } = await tx.query<SavedViewRow>(`select ${COLUMNS} from saved_views where workspace_id = $1 and id = $2 for update`, [ws, id]);
    return rows[0];
  },

  async insert(tx: Queryable, v: { workspaceId: string; ownerId: string; name: string; filters: SavedViewFilters; shared: boolean; at: Date }): Promise<SavedViewRow> {
    const { rows } = await tx.query<SavedViewRow>(
      `insert into saved_views (workspace_id, owner_id, name, filters, shared, created_at, updated_at) values ($1, $2, $3, $4, $5, $6, $6) returning ${COLUMNS}`,
      [v.workspaceId, v.ownerId, v.name, JSON.stringify(v.filters), v.shared, v.at],
    );
    return rows[0];
  },

  async update(tx: Queryable, ws: string, id: string, v: { name: string; filters: SavedViewFilters; shared: boolean; at: Date }): Promise<SavedViewRow> {
    const { rows } = await tx.query<SavedViewRow>(`update saved_views set name = $3, filters = $4, shared = $5, updated_at = $6 where workspace_id = $1 and id = $2 returning ${COLUMNS}`, [
      ws,
      id,
      v.name,
      JSON.stringify(v.filters),
      v.shared,
      v.at,
    ]);
    return rows[0];
  },

  async delete(tx: Queryable, ws: string, id: string): Promise<void> {
    await tx.query('delete from saved_views where workspace_id = $1 and id = $2', [ws, id]);
  },
};
