-- SECURITY M6: idempotency keys held API and invitation tokens in clear (the stored answers) and an
-- unsalted SHA-256 of request bodies that carried `currentPassword`. From now on an answer that
-- carries a secret is never stored (`replayable = false`: a repeat answers 409
-- idempotency.not_replayable), secret body fields stay out of the fingerprint, and the fingerprint is
-- an HMAC keyed by a server secret that is not in the database. Every existing row goes: its answer
-- may hold a token, its hash may derive from a password, and an old fingerprint could never match a
-- new one anyway (a retry would be a false 409). TRUNCATE, because row-level security would hide
-- other workspaces' rows from a DELETE.
truncate idempotency_keys;
alter table idempotency_keys add column replayable boolean not null default true;
