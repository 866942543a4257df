-- Idempotency keys remember the answer's media type (a replayed 4xx stays application/problem+json)
-- and live for 24 hours: a key older than that, or a claim whose request never finished (the process
-- died between claiming it and answering), can be claimed again; an hourly job purges old keys.
alter table idempotency_keys add column content_type text;
