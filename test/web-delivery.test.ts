import { describe, expect, it } from 'vitest';
import { deliveryText } from '../web/src/screens/conversation/delivery.js';

/** What agents read of an email reply's delivery (SECURITY M4: plain words, the same for every connection failure). */
describe('the delivery status in the agent app', () => {
  it('says a connection failure in plain words, whether the job still retries or gave up', () => {
    expect(deliveryText({ status: 'queued', error: 'email.connect_failed' })).toBe(
      "Delivery: queued, trying again. Could not connect to the mail server. Check the inbox's SMTP settings; the server log has the details.",
    );
    expect(deliveryText({ status: 'failed', error: 'email.connect_failed' })).toMatch(/^Delivery: failed\. Could not connect to the mail server\./);
    expect(deliveryText({ status: 'failed', error: 'email.delivery_rejected' })).toBe('Delivery: failed. The mail server refused the message.');
    expect(deliveryText({ status: 'sent' })).toBe('Delivery: sent');
  });

  it('shows the text of a reply recorded before codes as it is', () => {
    expect(deliveryText({ status: 'failed', error: '550 mailbox unavailable' })).toBe('Delivery: failed. 550 mailbox unavailable');
  });
});
