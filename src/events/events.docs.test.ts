import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { eventCatalogue } from './catalogue.js';
import { defineSubscriber } from './subscribers.js';
import { EVENTS_DOC, registeredSubscribers, renderEventsDoc } from './events.docs.js';

describe('docs/EVENTS.md', () => {
  it('is what `npm run docs:events` generates from the catalogue today', () => {
    // On failure: run `npm run docs:events` and commit docs/EVENTS.md.
    expect(readFileSync(EVENTS_DOC, 'utf8')).toBe(renderEventsDoc());
  });

  it('lists every event with its payload fields, and who listens', () => {
    const doc = renderEventsDoc(registeredSubscribers());
    for (const type of Object.keys(eventCatalogue)) expect(doc).toContain(`## ${type}\n`);
    expect(doc).toMatch(/## conversation\.status_changed[\s\S]*?\| `reason` \| `'manual'` \\\| `'customer_replied'` \\\| `'snooze_ended'` \|/);
    expect(doc).toMatch(/## message\.created[\s\S]*?Listeners: (`[a-z.]+` \(filtered\), )*`email\.outbound` \(filtered\)(, `[a-z.]+` \(filtered\))*\./);
    const sla = defineSubscriber({ name: 'sla.timers', types: ['conversation.status_changed'], ordered: true, handle: async () => {} });
    expect(renderEventsDoc([sla])).toMatch(/## conversation\.status_changed[\s\S]*?Listeners: `sla\.timers` \(ordered\)\./);
  });
});
