import type { Queryable } from '../../db/pool.js';
import type { CustomerView } from './customers.schemas.js';

/**
 * A kind of identity: email, phone and external_id are the core's; channels register more
 * (identity_kinds, migration 0070), such as whatsapp or chat_visitor.
 */
export type IdentityKind = string;

interface CustomerRow {
  id: string;
  name: string | null;
  custom_attributes: Record<string, unknown>;
  notes: string | null;
  created_at: Date;
  updated_at: Date;
  identities: { id: string; kind: IdentityKind; value: string }[];
}

const SELECT_CUSTOMER = `
  select c.id, c.name, c.custom_attributes, c.notes, c.created_at, c.updated_at,
    coalesce((select json_agg(json_build_object('id', i.id, 'kind', i.kind, 'value', i.value) order by array_position(array['email', 'phone', 'external_id'], i.kind), i.created_at, i.id)
              from customer_identities i where i.workspace_id = c.workspace_id and i.customer_id = c.id), '[]') as identities
  from customers c`;

export function toCustomerView(row: CustomerRow): CustomerView {
  return {
    id: row.id,
    name: row.name,
    email: row.identities.find((i) => i.kind === 'email')?.value ?? null,
    phone: row.identities.find((i) => i.kind === 'phone')?.value ?? null,
    identities: row.identities,
    customAttributes: row.custom_attributes,
    notes: row.notes,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

const MAX_NAMED_IDENTITIES = 8;
const findOrCreateTexts = new Map<number, string>();

/**
 * The find-or-create statement for `n` identities: $1 workspace, $2 new id, $3 name, $4 at, $5-$7 the
 * event's actor type, actor id and data, then each identity's kind and value ($8, $9, $10, ...).
 *
 * Each identity is its own probe of the unique (workspace_id, kind, value) index with scalar
 * parameters, tried in order by coalesce (which stops at the first customer found). An earlier
 * version joined `unnest($kinds, $values)` with the identities: a prepared statement's generic plan
 * cannot see into the arrays (it guesses 10 rows), so a connection that first planned it while the
 * table was small kept a plan that read every identity of the workspace and filtered kind and value
 * (bitmap scan on workspace_id, then a join filter): O(identities) per create, 5 ms at 5,000 and
 * ~20 ms in the write-path benchmark's workspace, until an ANALYZE invalidated it. A probe with an
 * equality on every column of a unique index is one row whatever the statistics say, so the cached
 * plan stays an index probe and costs the same at any size (issue 14).
 */
export function findOrCreateSql(n: number): string {
  let text = findOrCreateTexts.get(n);
  if (text) return text;
  const kind = (i: number) => `$${8 + 2 * i}::text`;
  const value = (i: number) => `$${9 + 2 * i}::text`;
  const ids = Array.from({ length: n }, (_, i) => i);
  const probes = ids.map((i) => `(select customer_id from customer_identities where workspace_id = $1 and kind = ${kind(i)} and value = ${value(i)})`);
  text = `with found as (
      select customer_id from (select coalesce(${probes.join(', ')}) as customer_id) f where customer_id is not null),
    cu as (
      insert into customers (workspace_id, id, name, custom_attributes, created_at, updated_at)
      select $1, $2, $3, '{}', $4, $4 where not exists (select 1 from found) returning id),
    ci as (
      insert into customer_identities (workspace_id, customer_id, kind, value, created_at)
      select $1, cu.id, w.kind, w.value, $4 from cu, (values ${ids.map((i) => `(${i}, ${kind(i)}, ${value(i)})`).join(', ')}) as w(ord, kind, value) order by w.ord
      on conflict (workspace_id, kind, value) do nothing returning 1),
    ev as (
      insert into events (workspace_id, conversation_id, type, actor_type, actor_id, data, created_at)
      select $1, null, 'customer.created', $5, $6, $7::jsonb, $4 from cu)
    select f.customer_id as found_id, exists (select 1 from cu) as created, (select count(*) from ci)::int as added, x.name, ids.email, ids.phone
    from (select (select customer_id from found) as customer_id) f
    left join customers x on x.workspace_id = $1 and x.id = f.customer_id
    left join lateral (
      select (array_agg(i.value order by i.created_at, i.id) filter (where i.kind = 'email'))[1] as email,
             (array_agg(i.value order by i.created_at, i.id) filter (where i.kind = 'phone'))[1] as phone
      from customer_identities i where i.workspace_id = $1 and i.customer_id = f.customer_id) ids on true`;
  findOrCreateTexts.set(n, text);
  return text;
}

export const customersRepository = {
  async insert(tx: Queryable, ws: string, c: { name: string | null; customAttributes: Record<string, unknown>; at: Date }): Promise<string> {
    const { rows } = await tx.query<{ id: string }>('insert into customers (workspace_id, name, custom_attributes, created_at, updated_at) values ($1, $2, $3, $4, $4) returning id', [
      ws,
      c.name,
      JSON.stringify(c.customAttributes),
      c.at,
    ]);
    return rows[0].id;
  },

  /** Adds an identity; returns false when another customer of the workspace already holds it. */
  async addIdentity(tx: Queryable, ws: string, customerId: string, kind: IdentityKind, value: string, at: Date): Promise<boolean> {
    const { rows } = await tx.query<{ customer_id: string }>(
      `with ins as (
         insert into customer_identities (workspace_id, customer_id, kind, value, created_at) values ($1, $2, $3, $4, $5)
         on conflict (workspace_id, kind, value) do nothing returning customer_id)
       select customer_id from ins
       union all
       select customer_id from customer_identities where workspace_id = $1 and kind = $3 and value = $4`,
      [ws, customerId, kind, value, at],
    );
    return rows.length > 0 && rows.every((r) => r.customer_id === customerId);
  },

  async replaceIdentity(tx: Queryable, ws: string, customerId: string, kind: IdentityKind, value: string, at: Date): Promise<boolean> {
    const holder = await tx.query<{ customer_id: string }>('select customer_id from customer_identities where workspace_id = $1 and kind = $2 and value = $3', [ws, kind, value]);
    if (holder.rows[0]) return holder.rows[0].customer_id === customerId;
    await tx.query('delete from customer_identities where workspace_id = $1 and customer_id = $2 and kind = $3', [ws, customerId, kind]);
    return this.addIdentity(tx, ws, customerId, kind, value, at);
  },

  /** Adds kinds channels declare; a kind already known keeps its description. */
  async registerIdentityKinds(tx: Queryable, kinds: { kind: string; description: string }[]): Promise<void> {
    if (kinds.length === 0) return;
    await tx.query(`insert into identity_kinds (kind, description) select * from unnest($1::text[], $2::text[]) on conflict (kind) do nothing`, [
      kinds.map((k) => k.kind),
      kinds.map((k) => k.description),
    ]);
  },

  async knownIdentityKinds(tx: Queryable): Promise<string[]> {
    const { rows } = await tx.query<{ kind: string }>('select kind from identity_kinds order by kind');
    return rows.map((r) => r.kind);
  },

  /**
   * Find-or-create as one statement: the customer holding the first of `identities` (in order), or a
   * new customer (`c.id`, chosen by the caller) holding them all, with its `customer.created` event
   * (checked by the caller) in the same statement. `identitiesAdded` below the number asked for, on a
   * created customer, means a concurrent transaction took one of them first (the caller retries).
   * name/email/phone are the customer's as the conversation view shows them (first email and phone).
   */
  async findOrCreate(
    tx: Queryable,
    ws: string,
    identities: [IdentityKind, string][],
    c: { id: string; name: string | null; at: Date; event: { actorType: string; actorId: string | null; data: string } },
  ): Promise<{ foundId: string | null; created: boolean; identitiesAdded: number; name: string | null; email: string | null; phone: string | null }> {
    const n = identities.length;
    const { rows } = await tx.query<{ found_id: string | null; created: boolean; added: number; name: string | null; email: string | null; phone: string | null }>({
      // One prepared statement per number of identities (one to three from the API; a few more from channels).
      name: n <= MAX_NAMED_IDENTITIES ? `customers.find_or_create.${n}` : undefined,
      text: findOrCreateSql(n),
      values: [ws, c.id, c.name, c.at, c.event.actorType, c.event.actorId, c.event.data, ...identities.flat()],
    });
    const r = rows[0];
    return { foundId: r.found_id, created: r.created, identitiesAdded: r.added, name: r.name, email: r.email, phone: r.phone };
  },

  async findByIdentity(tx: Queryable, ws: string, kind: IdentityKind, value: string): Promise<string | undefined> {
    const { rows } = await tx.query<{ customer_id: string }>('select customer_id from customer_identities where workspace_id = $1 and kind = $2 and value = $3', [ws, kind, value]);
    return rows[0]?.customer_id;
  },

  async find(tx: Queryable, ws: string, id: string): Promise<CustomerView | undefined> {
    const { rows } = await tx.query<CustomerRow>(`${SELECT_CUSTOMER} where c.workspace_id = $1 and c.id = $2`, [ws, id]);
    return rows[0] && toCustomerView(rows[0]);
  },

  async lockForUpdate(tx: Queryable, ws: string, id: string): Promise<boolean> {
    const { rowCount } = await tx.query('select 1 from customers where workspace_id = $1 and id = $2 for update', [ws, id]);
    return rowCount === 1;
  },

  async update(tx: Queryable, ws: string, id: string, patch: { name?: string | null; customAttributes?: Record<string, unknown>; notes?: string | null; at: Date }): Promise<void> {
    await tx.query(
      `update customers set
         name = case when $3 then $4 else name end,
         custom_attributes = coalesce($5::jsonb, custom_attributes),
         notes = case when $7 then $8 else notes end,
         updated_at = $6
       where workspace_id = $1 and id = $2`,
      [ws, id, patch.name !== undefined, patch.name ?? null, patch.customAttributes ? JSON.stringify(patch.customAttributes) : null, patch.at, patch.notes !== undefined, patch.notes ?? null],
    );
  },

  /** Removes one identity of the customer; false when the customer holds no such identity. */
  async removeIdentity(tx: Queryable, ws: string, customerId: string, identityId: string): Promise<boolean> {
    const { rowCount } = await tx.query('delete from customer_identities where workspace_id = $1 and customer_id = $2 and id = $3', [ws, customerId, identityId]);
    return rowCount === 1;
  },

  async touch(tx: Queryable, ws: string, id: string, at: Date): Promise<void> {
    await tx.query('update customers set updated_at = $3 where workspace_id = $1 and id = $2', [ws, id, at]);
  },

  /**
   * Newest first. With `q`: customers whose name starts with it (any case) or who hold it as an
   * identity. Two LIMIT-bounded branches: the name prefix as a range of customers_name_key_idx
   * (leakproof ~>=~ / ~<~ on the stored lower-case name, so an index condition under row-level
   * security; LIKE only rechecks) or, for a prefix most names share, the newest-first walk the
   * planner prefers; the identity as a probe of the unique identity index (`phone`: the text as a
   * stored phone number too, when it reads as one).
   */
  async list(
    tx: Queryable,
    ws: string,
    opts: { limit: number; after?: [string, string]; q?: string; phone?: string; kind?: string; createdAfter?: string; createdBefore?: string },
  ): Promise<CustomerView[]> {
    const params: unknown[] = [ws, opts.limit];
    const p = (v: unknown) => {
      params.push(v);
      return `$${params.length}`;
    };
    const where = ['c.workspace_id = $1'];
    if (opts.after) where.push(`(c.created_at, c.id) < (${p(opts.after[0])}::timestamptz, ${p(opts.after[1])}::uuid)`);
    // The created range bounds the newest-first walk of (workspace_id, created_at, id); the kind is a
    // probe of customer_identities_customer_idx per customer walked (equality only: leakproof).
    if (opts.createdBefore) where.push(`c.created_at < ${p(opts.createdBefore)}::timestamptz`);
    if (opts.createdAfter) where.push(`c.created_at >= ${p(opts.createdAfter)}::timestamptz`);
    if (opts.kind) where.push(`exists (select 1 from customer_identities k where k.workspace_id = c.workspace_id and k.customer_id = c.id and k.kind = ${p(opts.kind)})`);
    let from = 'customers c';
    if (opts.q) {
      const q = p(opts.q);
      const scope = where.join(' and ');
      // U+10FFFF sorts after every character (byte order): [prefix, prefix || U+10FFFF) holds every
      // name with the prefix. lower() of a value (not of a column) is folded before planning.
      from = `(
        (select c.* from customers c where ${scope}
           and c.name_key ~>=~ lower(${q}) and c.name_key ~<~ (lower(${q}) || ${p('\u{10FFFF}')})
           and c.name_key like (replace(replace(replace(lower(${q}), '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '%')
         order by c.created_at desc, c.id desc limit $2)
        union
        (select c.* from customers c where ${scope}
           and c.id in (select i.customer_id from customer_identities i
                        where i.workspace_id = $1 and i.kind = any(array['email', 'phone', 'external_id'])
                          and ${opts.phone ? `i.value = any(array[lower(${q}), ${p(opts.phone)}])` : `i.value = lower(${q})`})
         order by c.created_at desc, c.id desc limit $2)) c`;
    }
    const { rows } = await tx.query<CustomerRow>(`${SELECT_CUSTOMER.replace('from customers c', `from ${from}`)} where ${where.join(' and ')} order by c.created_at desc, c.id desc limit $2`, params);
    return rows.map(toCustomerView);
  },

  async names(tx: Queryable, ws: string, ids: string[]) {
    const { rows } = await tx.query<{ id: string; name: string | null }>('select id, name from customers where workspace_id = $1 and id = any($2::uuid[])', [ws, ids]);
    return rows;
  },

  /** Which of these (workspace, customer) pairs exist, across workspaces (system context; primary-key probes). */
  async existing(tx: Queryable, refs: Array<{ workspaceId: string; id: string }>) {
    const { rows } = await tx.query<{ workspace_id: string; id: string }>('select workspace_id, id from customers where (workspace_id, id) in (select * from unnest($1::uuid[], $2::uuid[]))', [
      refs.map((r) => r.workspaceId),
      refs.map((r) => r.id),
    ]);
    return rows;
  },
};
