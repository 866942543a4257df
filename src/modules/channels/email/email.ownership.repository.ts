import type { Queryable } from '../../../db/pool.js';

/**
 * The only SQL of address and domain ownership (SECURITY H2). Statements that read or change
 * another workspace's claims (a proof taking a value over, a confirmation link opened by someone
 * who is not signed in, the throttle across workspaces) run in a system context; every other one
 * names its workspace.
 */
export interface ClaimRow {
  kind: 'address' | 'domain';
  value: string;
  domain: string;
  status: 'pending' | 'verified';
  verified_at: Date | null;
  verified_by: 'existing' | 'link' | 'dns' | 'operator' | null;
  confirm_sent_at: Date | null;
  confirm_expires_at: Date | null;
}

export interface ConfirmationRow {
  workspace_id: string;
  inbox_id: string;
  address: string;
  domain: string;
  confirm_expires_at: Date;
}

export const ownershipRepository = {
  /** A transaction-scoped lock on a name (a domain being proven, an address being mailed). */
  async advisoryLock(tx: Queryable, name: string): Promise<void> {
    await tx.query('select pg_advisory_xact_lock(hashtext($1))', [name]);
  },

  /**
   * An inbox's claims after its settings are saved: values it no longer lists go, new ones come in
   * pending, the ones it keeps keep their proof. A value another inbox of the same workspace holds
   * is a unique violation (23505) on (workspace_id, kind, value).
   */
  async replaceClaims(tx: Queryable, ws: string, inboxId: string, addresses: string[], domains: string[]): Promise<void> {
    await tx.query(
      `delete from email_inbox_addresses where workspace_id = $1 and inbox_id = $2
         and not ((kind = 'address' and value = any($3::text[])) or (kind = 'domain' and value = any($4::text[])))`,
      [ws, inboxId, addresses, domains],
    );
    await tx.query(
      `insert into email_inbox_addresses (workspace_id, inbox_id, kind, value, domain)
       select $1::uuid, $2::uuid, 'address', a, split_part(a, '@', 2) from unnest($3::text[]) a
       union
       select $1::uuid, $2::uuid, 'domain', d, d from unnest($4::text[]) d
       on conflict (workspace_id, inbox_id, kind, value) do nothing`,
      [ws, inboxId, addresses, domains],
    );
  },

  /** The TXT token of each domain for this workspace, made on first use. */
  async ensureDomainTokens(tx: Queryable, ws: string, domains: string[], tokens: string[], at: Date): Promise<void> {
    await tx.query(
      `insert into email_domain_tokens (workspace_id, domain, token, created_at)
       select $1::uuid, d, t, $4 from unnest($2::text[], $3::text[]) as x(d, t)
       on conflict (workspace_id, domain) do nothing`,
      [ws, domains, tokens, at],
    );
  },

  async domainTokens(tx: Queryable, ws: string, domains: string[]): Promise<{ domain: string; token: string }[]> {
    const { rows } = await tx.query<{ domain: string; token: string }>('select domain, token from email_domain_tokens where workspace_id = $1 and domain = any($2::text[]) order by domain', [
      ws,
      domains,
    ]);
    return rows;
  },

  async claims(tx: Queryable, ws: string, inboxId: string): Promise<ClaimRow[]> {
    const { rows } = await tx.query<ClaimRow>(
      `select kind, value, domain, status, verified_at, verified_by, confirm_sent_at, confirm_expires_at
       from email_inbox_addresses where workspace_id = $1 and inbox_id = $2 order by kind, value`,
      [ws, inboxId],
    );
    return rows;
  },

  async claim(tx: Queryable, ws: string, inboxId: string, kind: 'address' | 'domain', value: string): Promise<ClaimRow | undefined> {
    const { rows } = await tx.query<ClaimRow>(
      `select kind, value, domain, status, verified_at, verified_by, confirm_sent_at, confirm_expires_at
       from email_inbox_addresses where workspace_id = $1 and inbox_id = $2 and kind = $3 and value = $4`,
      [ws, inboxId, kind, value],
    );
    return rows[0];
  },

  /** Stores a new confirmation secret (the previous link stops working). */
  async setConfirmToken(tx: Queryable, ws: string, inboxId: string, address: string, hash: Buffer, sentAt: Date, expiresAt: Date): Promise<void> {
    await tx.query(
      `update email_inbox_addresses set confirm_token_hash = $4, confirm_sent_at = $5, confirm_expires_at = $6
       where workspace_id = $1 and inbox_id = $2 and kind = 'address' and value = $3 and status = 'pending'`,
      [ws, inboxId, address, hash, sentAt, expiresAt],
    );
  },

  /**
   * (System context.) Confirmation emails asked for an address since a time: across workspaces
   * (`total`), by this workspace (`mine`), and by this workspace lately (`recent`).
   */
  async sendsSince(tx: Queryable, ws: string, address: string, since: Date, recentSince: Date): Promise<{ total: number; mine: number; recent: number }> {
    const { rows } = await tx.query<{ total: number; mine: number; recent: number }>(
      `select count(*)::int as total, count(*) filter (where workspace_id = $1)::int as mine,
         count(*) filter (where workspace_id = $1 and sent_at > $4)::int as recent
       from email_confirmation_sends where address = $2 and sent_at > $3`,
      [ws, address, since, recentSince],
    );
    return rows[0];
  },

  async recordSend(tx: Queryable, ws: string, address: string, at: Date, purgeBefore: Date): Promise<void> {
    await tx.query('delete from email_confirmation_sends where address = $1 and sent_at < $2', [address, purgeBefore]);
    await tx.query('insert into email_confirmation_sends (workspace_id, address, sent_at) values ($1, $2, $3)', [ws, address, at]);
  },

  /**
   * (System context.) The workspace that mail to an address reaches on this instance, in the order
   * inbound routing takes (email.service.ts routeRecipient): the exact address, the base of a plus
   * address, then a catch-all of the domain (`domain` null when it can never be one). Only verified
   * claims route.
   */
  async routedWorkspace(tx: Queryable, address: string, base: string, domain: string | null): Promise<string | undefined> {
    const { rows } = await tx.query<{ workspace_id: string }>(
      `select a.workspace_id from email_inbox_addresses a
       join inboxes i on i.workspace_id = a.workspace_id and i.id = a.inbox_id and i.channel = 'email'
       where a.status = 'verified'
         and ((a.kind = 'address' and a.value in ($1, $2)) or (a.kind = 'domain' and a.value = $3))
       order by case when a.kind = 'address' and a.value = $1 then 0 when a.kind = 'address' then 1 else 2 end
       limit 1`,
      [address, base, domain],
    );
    return rows[0]?.workspace_id;
  },

  /** (System context.) The pending claim a confirmation secret belongs to (the names the confirm page shows come from their owners). */
  async byConfirmToken(tx: Queryable, hash: Buffer, lock = false): Promise<ConfirmationRow | undefined> {
    const { rows } = await tx.query<ConfirmationRow>(
      `select a.workspace_id, a.inbox_id, a.value as address, a.domain, a.confirm_expires_at
       from email_inbox_addresses a
       where a.confirm_token_hash = $1 and a.kind = 'address' and a.status = 'pending'
       ${lock ? 'for update of a' : ''}`,
      [hash],
    );
    return rows[0];
  },

  /**
   * (System context.) Marks values proven for one workspace. The newest proof wins: another
   * workspace that held one of them verified goes back to pending (its mail stops until it proves
   * again), because whoever proves control now is who controls it now.
   */
  async markVerified(tx: Queryable, ws: string, items: { kind: 'address' | 'domain'; value: string }[], by: 'link' | 'dns' | 'operator', at: Date): Promise<number> {
    const kinds = items.map((i) => i.kind);
    const values = items.map((i) => i.value);
    await tx.query(
      `update email_inbox_addresses a set status = 'pending', verified_at = null, verified_by = null
       from unnest($2::text[], $3::text[]) as x(kind, value)
       where a.kind = x.kind and a.value = x.value and a.workspace_id <> $1 and a.status = 'verified'`,
      [ws, kinds, values],
    );
    const { rowCount } = await tx.query(
      `update email_inbox_addresses a set status = 'verified', verified_at = $4, verified_by = $5,
         confirm_token_hash = null, confirm_expires_at = null
       from unnest($2::text[], $3::text[]) as x(kind, value)
       where a.workspace_id = $1 and a.kind = x.kind and a.value = x.value and a.status = 'pending'`,
      [ws, kinds, values, at, by],
    );
    return rowCount ?? 0;
  },

  /** The workspace's pending claims a proof of `domain` covers: its addresses at the domain and the domain as a catch-all. */
  async pendingInDomain(tx: Queryable, ws: string, domain: string): Promise<{ kind: 'address' | 'domain'; value: string }[]> {
    const { rows } = await tx.query<{ kind: 'address' | 'domain'; value: string }>(
      `select kind, value from email_inbox_addresses where workspace_id = $1 and domain = $2 and status = 'pending' order by kind, value`,
      [ws, domain],
    );
    return rows;
  },
};
