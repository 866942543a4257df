import { describe, expect, it } from 'vitest';
import { deliveryOf, deliveryText } from '../web/src/screens/conversation/delivery.js';

/** What agents read of an email reply's delivery (SECURITY M4: plain words, the same for every connection failure). */
describe('the delivery status in the agent app', () => {
  it('says a connection failure in plain words, whether the job still retries or gave up', () => {
    expect(deliveryText({ status: 'queued', error: 'email.connect_failed' })).toBe(
      "Delivery: queued, trying again. Could not connect to the mail server. Check the inbox's SMTP settings; the server log has the details.",
    );
    expect(deliveryText({ status: 'failed', error: 'email.connect_failed' })).toMatch(/^Not delivered\. Could not connect to the mail server\./);
    expect(deliveryText({ status: 'failed', error: 'email.delivery_rejected' })).toBe('Not delivered. The mail server refused the message.');
    expect(deliveryText({ status: 'sent' })).toBe('Delivery: sent');
  });

  it('never shows a code it has no words for (a channel added later), nor a failure without a reason as a status word', () => {
    expect(deliveryText({ status: 'failed', error: 'whatsapp.window_closed' })).toBe('Not delivered. The channel could not send it; the server log has the details.');
    expect(deliveryText({ status: 'failed' })).toBe('Not delivered.');
  });

  it('shows the text of a reply recorded before codes as it is', () => {
    expect(deliveryText({ status: 'failed', error: '550 mailbox unavailable' })).toBe('Not delivered. 550 mailbox unavailable');
  });

  it('offers Retry now only for the channel core’s delivery, not for the status an older version kept in metadata.email', () => {
    expect(deliveryOf({ delivery: { status: 'failed', reason: 'email.delivery_rejected' } })).toEqual({ status: 'failed', error: 'email.delivery_rejected', retryable: true });
    expect(deliveryOf({ email: { delivery: { status: 'failed', error: '550 mailbox unavailable' } } })).toEqual({ status: 'failed', error: '550 mailbox unavailable' });
    expect(deliveryOf({})).toBeNull();
  });
});
