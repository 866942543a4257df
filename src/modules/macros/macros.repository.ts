import type { Queryable } from '../../db/pool.js';
import type { MacroActions } from './macros.schemas.js';

export interface MacroRow {
  id: string;
  name: string;
  body: string;
  actions: MacroActions;
  created_by: string | null;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = 'id, name, body, actions, created_by, created_at, updated_at';

/** The only SQL for macros. Every statement names workspace_id. */
export const macrosRepository = {
  async list(tx: Queryable, ws: string): Promise<MacroRow[]> {
    const { rows } = await tx.query<MacroRow>(`select ${COLUMNS} from macros where workspace_id = $1 order by lower(name), id`, [ws]);
    return rows;
  },

  async find(tx: Queryable, ws: string, id: string): Promise<MacroRow | undefined> {
    const { rows } = await tx.query<MacroRow>(`select ${COLUMNS} from macros where workspace_id = $1 and id = $2`, [ws, id]);
    return rows[0];
  },

  /** Undefined when the name is taken. */
  async insert(tx: Queryable, m: { workspaceId: string; name: string; body: string; actions: MacroActions; createdBy: string | null; at: Date }): Promise<MacroRow | undefined> {
    const { rows } = await tx.query<MacroRow>(
      `insert into macros (workspace_id, name, body, actions, created_by, created_at, updated_at) values ($1, $2, $3, $4, $5, $6, $6)
       on conflict do nothing returning ${COLUMNS}`,
      [m.workspaceId, m.name, m.body, JSON.stringify(m.actions), m.createdBy, m.at],
    );
    return rows[0];
  },

  async update(tx: Queryable, ws: string, id: string, m: { name: string; body: string; actions: MacroActions; at: Date }): Promise<MacroRow | undefined> {
    const { rows } = await tx.query<MacroRow>(`update macros set name = $3, body = $4, actions = $5, updated_at = $6 where workspace_id = $1 and id = $2 returning ${COLUMNS}`, [
      ws,
      id,
      m.name,
      m.body,
      JSON.stringify(m.actions),
      m.at,
    ]);
    return rows[0];
  },

  async nameTaken(tx: Queryable, ws: string, name: string, exceptId: string | null): Promise<boolean> {
    const { rowCount } = await tx.query('select 1 from macros where workspace_id = $1 and lower(name) = lower($2) and id is distinct from $3', [ws, name, exceptId]);
    return rowCount === 1;
  },

  async remove(tx: Queryable, ws: string, id: string): Promise<boolean> {
    const { rowCount } = await tx.query('delete from macros where workspace_id = $1 and id = $2', [ws, id]);
    return rowCount === 1;
  },
};
