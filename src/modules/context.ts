import type { Pool } from '../db/pool.js';
import type { Actor } from '../events/events.types.js';
import type { Clock } from '../lib/clock.js';

/** What a use case needs to act in one workspace: passed explicitly, never a hidden singleton. */
export interface WorkspaceDeps {
  pool: Pool;
  clock: Clock;
  workspaceId: string;
  actor: Actor;
}

/** Who acts, as idempotency keys and uploads remember it: 'user:<id>' or 'token:<id>'. */
export function principalOf(actor: Actor): string {
  return `${actor.type}:${actor.id ?? ''}`;
}
