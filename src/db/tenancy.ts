import type { Pool, PoolClient } from './pool.js';

/**
 * Every tenant query runs inside one of these helpers. `withWorkspace` sets `app.workspace_id` for
 * the transaction only (set_config(..., true)), which PostgreSQL row-level security checks on every
 * tenant table, so a query that forgets its `workspace_id = $1` still sees nothing of another
 * workspace, and the setting never outlives the transaction on a pooled connection.
 * `withSystem` is for the few places that work across workspaces by design (login, token lookup,
 * the event dispatcher, inbound routing): they are named and easy to audit.
 */
export async function withWorkspace<T>(pool: Pool, workspaceId: string, fn: (tx: PoolClient) => Promise<T>): Promise<T> {
  // One round trip for BEGIN and the setting (issue #14: every statement before an SMTP 250 or an
  // API answer is a wait on a loaded machine). A multi-statement query cannot take parameters, so the
  // id goes in as a literal only when it is a canonical UUID (hex digits and dashes: nothing to
  // escape); anything else takes the parameterised two-step path, and fails there as before.
  if (UUID.test(workspaceId)) return transaction(pool, fn, `begin; select set_config('app.workspace_id', '${workspaceId}', true)`);
  return transaction(pool, fn, 'begin', "select set_config('app.workspace_id', $1, true)", [workspaceId]);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A use case's transaction: the caller's when it passes one (`tx`, already scoped to this workspace
 * by an outer `inWorkspaceTx` or a system transaction), so several use cases commit or roll back
 * together; otherwise its own `withWorkspace` transaction. Inside a caller's transaction nothing is
 * committed here and an error propagates to the caller, who rolls everything back.
 */
export async function inWorkspaceTx<T>(ctx: { pool: Pool; workspaceId: string; tx?: PoolClient }, fn: (tx: PoolClient) => Promise<T>): Promise<T> {
  return ctx.tx ? fn(ctx.tx) : withWorkspace(ctx.pool, ctx.workspaceId, fn);
}

/** `inWorkspaceTx` for the cross-workspace use cases (accounts, workspace creation). */
export async function inSystemTx<T>(ctx: { pool: Pool; tx?: PoolClient }, fn: (tx: PoolClient) => Promise<T>): Promise<T> {
  return ctx.tx ? fn(ctx.tx) : withSystem(ctx.pool, fn);
}

export async function withSystem<T>(pool: Pool, fn: (tx: PoolClient) => Promise<T>): Promise<T> {
  return transaction(pool, fn, "begin; select set_config('app.system', 'on', true)");
}

/** `start` opens the transaction (and, when `setup` is not given, sets its context in the same query). */
async function transaction<T>(pool: Pool, fn: (tx: PoolClient) => Promise<T>, start: string, setup?: string, params: unknown[] = []): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query(start);
    if (setup) await client.query(setup, params);
    const result = await fn(client);
    await client.query('commit');
    return result;
  } catch (error) {
    try {
      await client.query('rollback');
    } catch {
      broken = true;
    }
    throw error;
  } finally {
    client.release(broken);
  }
}
