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
  return transaction(pool, fn, "select set_config('app.workspace_id', $1, true)", [workspaceId]);
}

export async function withSystem<T>(pool: Pool, fn: (tx: PoolClient) => Promise<T>): Promise<T> {
  return transaction(pool, fn, "select set_config('app.system', 'on', true)", []);
}

async function transaction<T>(pool: Pool, fn: (tx: PoolClient) => Promise<T>, setup: string, params: unknown[]): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query('begin');
    await client.query(setup, params);
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

/**
 * Runs several use cases as one transaction: `fn` gets a pool whose every `withWorkspace` /
 * `withSystem` runs on one connection, its begin/commit/rollback turned into savepoints of an outer
 * transaction. Either all of it commits or none of it does (the demo seed: a first start that is
 * interrupted must not leave an owner without a workspace, or a workspace whose password was never
 * printed). The use cases inside must run one after another, not concurrently.
 */
export async function asOneTransaction<T>(pool: Pool, fn: (pool: Pool) => Promise<T>): Promise<T> {
  return transaction(pool, async (client) => {
    const open: string[] = [];
    let counter = 0;
    const nested = new Proxy(client, {
      get(target, prop, receiver) {
        if (prop === 'release') return () => {};
        if (prop === 'query') {
          return (text: unknown, ...rest: unknown[]) => {
            if (text === 'begin') {
              open.push(`nested_${++counter}`);
              return target.query(`savepoint ${open[open.length - 1]}`);
            }
            if (text === 'commit') return target.query(`release savepoint ${open.pop()}`);
            if (text === 'rollback') {
              const name = open.pop();
              return target.query(`rollback to savepoint ${name}; release savepoint ${name}`);
            }
            return (target.query as (...args: unknown[]) => unknown)(text, ...rest);
          };
        }
        return Reflect.get(target, prop, receiver);
      },
    });
    const single = { connect: async () => nested } as unknown as Pool;
    return fn(single);
  }, 'select 1', []);
}
