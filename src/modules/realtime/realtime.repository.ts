import type { Queryable } from '../../db/pool.js';

/** The realtime module's SQL: presence notices. Events are read through events/reads.ts, conversations through their service. */
export const realtimeRepository = {
  async notify(tx: Queryable, channel: 'rapport_presence', payload: string): Promise<void> {
    await tx.query('select pg_notify($1, $2)', [channel, payload]);
  },
};
