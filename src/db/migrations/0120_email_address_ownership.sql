-- SECURITY H2: an inbox address or catch-all domain routes mail to a workspace only once that
-- workspace has proven it controls it (a confirmation link mailed to the address, or a DNS TXT
-- record on the domain). Until then the claim is "pending" and mail to it is refused like mail to an
-- unknown address. Pending claims no longer block anyone: several workspaces may claim the same
-- value, so a squatter cannot hold an address hostage, and no answer says whether someone else uses
-- it. At most one workspace holds a value verified; the newest proof takes it over.

alter table email_inbox_addresses
  add column status text not null default 'pending' check (status in ('pending', 'verified')),
  add column verified_at timestamptz,
  -- 'existing' (claimed before proofs existed), 'link', 'dns', or 'operator' (service-level, seeds).
  add column verified_by text check (verified_by in ('existing', 'link', 'dns', 'operator')),
  -- The confirmation link's secret, SHA-256 only (like sessions and invitations); single use.
  add column confirm_token_hash bytea,
  add column confirm_expires_at timestamptz,
  add column confirm_sent_at timestamptz;

-- Inboxes that already received mail keep receiving it: turning every help desk's mail off on an
-- upgrade would be the worse outage. Their admins see them as verified "before verification".
select set_config('app.system', 'on', true);
update email_inbox_addresses set status = 'verified', verified_at = now(), verified_by = 'existing';
select set_config('app.system', 'off', true);

drop index email_inbox_addresses_claim;
-- One inbox per value inside a workspace (a workspace's own duplicate is still refused).
create unique index email_inbox_addresses_workspace_claim on email_inbox_addresses (workspace_id, kind, value);
-- One verified owner per value across all workspaces: this is what routing trusts.
create unique index email_inbox_addresses_verified on email_inbox_addresses (kind, value) where status = 'verified';
create unique index email_inbox_addresses_confirm_token on email_inbox_addresses (confirm_token_hash) where confirm_token_hash is not null;

-- The TXT record a workspace puts on a domain to prove it: rapport-verification=<token>, at the
-- domain or at _rapport.<domain>. One token per workspace and domain, so one workspace's record
-- never proves anything for another.
create table email_domain_tokens (
  workspace_id uuid not null references workspaces(id) on delete cascade,
  domain text not null,
  token text not null,
  created_at timestamptz not null,
  primary key (workspace_id, domain)
);

-- Confirmation emails sent, for the throttles (per address across all workspaces, and per
-- workspace and address): nobody can use Rapport to flood a stranger's mailbox with them.
create table email_confirmation_sends (
  workspace_id uuid not null references workspaces(id) on delete cascade,
  address text not null,
  sent_at timestamptz not null
);
create index email_confirmation_sends_address_idx on email_confirmation_sends (address, sent_at);

do $$
declare t text;
begin
  foreach t in array array['email_domain_tokens', 'email_confirmation_sends'] loop
    execute format('alter table %I enable row level security', t);
    execute format('alter table %I force row level security', t);
    execute format($p$create policy tenant_isolation on %I
      using (workspace_id = rapport_current_workspace() or rapport_is_system())
      with check (workspace_id = rapport_current_workspace() or rapport_is_system())$p$, t);
  end loop;
end $$;
