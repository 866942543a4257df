-- Password reset by email (issue #8 H1, issue #10): the owner of an address takes its account back by
-- proving the address. One live link per account (a newer one replaces it); only the SHA-256 of its
-- 256-bit secret is stored; single use (used_at) and expiring (expires_at). Personal, not a tenant's:
-- only system code reads it.
create table password_resets (
  user_id uuid primary key references users(id) on delete cascade,
  token_hash bytea not null unique,
  created_at timestamptz not null,
  expires_at timestamptz not null,
  used_at timestamptz
);
alter table password_resets enable row level security;
alter table password_resets force row level security;
create policy system_only on password_resets using (rapport_is_system()) with check (rapport_is_system());

-- The account's owner is told when its password was reset by email.
alter table security_alerts drop constraint security_alerts_kind_check;
alter table security_alerts add constraint security_alerts_kind_check check (kind in ('password_guessing', 'password_reset'));
