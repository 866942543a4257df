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
    const { rows } = await tx.query<{ found_id: string | null; created: boolean; added: number; name: string | null; email: string | null; phone: string | null }>({
      name: 'customers.find_or_create',
      text: `with want as (select kind, value, ord from unnest($2::text[], $3::text[]) with ordinality as w(kind, value, ord)),
        found as (
          select i.customer_id from want join customer_identities i on i.workspace_id = $1 and i.kind = want.kind and i.value = want.value
          order by want.ord limit 1),
        cu as (
          insert into customers (workspace_id, id, name, custom_attributes, created_at, updated_at)
          select $1, $4, $5, '{}', $6, $6 where not exists (select 1 from found) returning id),
        ci as (
          insert into customer_identities (workspace_id, customer_id, kind, value, created_at)
          select $1, cu.id, want.kind, want.value, $6 from cu, want order by want.ord
          on conflict (workspace_id, kind, value) do nothing returning 1),
        ev as (
          insert into events (workspace_id, conversation_id, type, actor_type, actor_id, data, created_at)
          select $1, null, 'customer.created', $7, $8, $9::jsonb, $6 from cu)
        select f.customer_id as found_id, exists (select 1 from cu) as created, (select count(*) from ci)::int as added,
          (select x.name from customers x where x.workspace_id = $1 and x.id = f.customer_id) as name,
          (select i.value from customer_identities i where i.workspace_id = $1 and i.customer_id = f.customer_id and i.kind = 'email' order by i.created_at limit 1) as email,
          (select i.value from customer_identities i where i.workspace_id = $1 and i.customer_id = f.customer_id and i.kind = 'phone' order by i.created_at limit 1) as phone
        from (select (select customer_id from found) as customer_id) f`,
      values: [ws, identities.map((i) => i[0]), identities.map((i) => i[1]), c.id, c.name, c.at, c.event.actorType, c.event.actorId, c.event.data],
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
