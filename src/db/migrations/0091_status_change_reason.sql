-- Every conversation.status_changed now carries a reason (src/modules/conversations/conversations.events.ts).
-- Before, only the system's reopens had one (customer_replied, snooze_ended); a change without one was
-- made by an agent or an API client, which the catalogue calls `manual`. Filled in so subscribers and
-- reports reading old events get the same payload as new ones. Events are tenant rows: system mode.
select set_config('app.system', 'on', true);
update events set data = data || '{"reason": "manual"}'::jsonb
  where type = 'conversation.status_changed' and not (data ? 'reason');
select set_config('app.system', 'off', true);
