/**
 * The delivery status of an email reply in plain words. The server stores a stable code, never the
 * mail server's or the socket's own words (SECURITY M4: no hint of which hosts and ports answer);
 * the details are in the server log. Texts of older replies, stored before codes, are shown as they are.
 */
const failures: Record<string, string> = {
  'email.connect_failed': "Could not connect to the mail server. Check the inbox's SMTP settings; the server log has the details.",
  'email.delivery_rejected': 'The mail server refused the message.',
  'email.ambiguous_recipient': 'The recipient address is ambiguous and was refused.',
  'email.no_recipient': 'The customer has no email address.',
  'email.invalid_recipient': 'The recipient address is not valid.',
  'email.no_smtp_settings': 'The inbox has no SMTP server for replies.',
};

const statuses: Record<string, string> = { queued: 'queued', sent: 'sent', failed: 'failed' };

export function deliveryText(delivery: { status: string; error?: string }): string {
  const status = statuses[delivery.status] ?? delivery.status;
  if (!delivery.error) return `Delivery: ${status}`;
  const reason = failures[delivery.error] ?? delivery.error;
  return delivery.status === 'queued' ? `Delivery: ${status}, trying again. ${reason}` : `Delivery: ${status}. ${reason}`;
}
