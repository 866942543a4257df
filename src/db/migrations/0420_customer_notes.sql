-- A customer's internal note (issue #10, the Customers screen): free text agents keep about the
-- customer ("prefers phone calls", "VIP since 2024"). Agent-only, like a conversation's note: the
-- customers service leaves it out of every answer to a client viewer, and its change is announced by
-- the agents-only `customer.notes_updated` event, never by `customer.updated` (which clients see).
-- A column of customers (already a tenant table with forced RLS), not a table: one note per customer.
alter table customers add column notes text check (char_length(notes) <= 10000);
