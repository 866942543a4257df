/**
 * The delivery status of a reply in plain words, for every channel: the server keeps one status per
 * reply in message.metadata.delivery (`reason` is its code); replies an older version sent by email
 * kept theirs in metadata.email.delivery (`error`), still read here. The server stores a stable code, never the
 * provider's, the mail server's or the socket's own words (SECURITY M4: no hint of which hosts and ports answer);
 * the details are in the server log. Texts of older replies, stored before codes, are shown as they are.
 */
const failures: Record<string, string> = {
  'email.connect_failed': "Could not connect to the mail server. Check the inbox's SMTP settings; the server log has the details.",
  'email.delivery_rejected': 'The mail server refused the message.',
  'email.ambiguous_recipient': 'The recipient address is ambiguous and was refused.',
  'email.no_recipient': 'The customer has no email address.',
  'email.invalid_recipient': 'The recipient address is not valid.',
  'email.no_smtp_settings': 'The inbox has no SMTP server for replies.',
  'channel.send_failed': 'The channel could not send it; the server log has the details.',
  'channel.no_recipient': 'The customer has no address on this channel.',
  'channel.unavailable': 'The channel of this inbox cannot send any more.',
  'channel.send_expired': 'It could not be sent for a day and was given up.',
  'channel.inbox_disabled': 'The inbox was disabled before it went out. Enable the inbox again, then retry.',
  'channel.provider_failed': 'The provider reported that it could not be delivered.',
};

/** Failures no retry changes (refused before sending: the server answers channels.delivery_not_retryable): no "Retry now". */
const notRetryable = new Set(['email.no_recipient', 'email.ambiguous_recipient', 'email.invalid_recipient']);

/** A code the server gave that this version has no words for: never shown as it is. */
const UNKNOWN_CODE = 'The channel could not send it; the server log has the details.';

const statuses: Record<string, string> = { queued: 'queued', sent: 'sent', delivered: 'delivered', read: 'read', failed: 'failed' };

export interface DeliveryView {
  status: string;
  error?: string;
  /** The channel core's delivery (metadata.delivery), which "Retry now" can send again; not an older version's email status. */
  retryable?: boolean;
}

/** The delivery status a message's metadata holds (JSON from the server, any version), or null for none. */
export function deliveryOf(metadata: Record<string, unknown> | null | undefined): DeliveryView | null {
  const core = metadata?.delivery as { status?: unknown; reason?: unknown } | undefined;
  if (core && typeof core === 'object' && typeof core.status === 'string')
    return {
      status: core.status,
      retryable: !(typeof core.reason === 'string' && notRetryable.has(core.reason)),
      ...(typeof core.reason === 'string' && core.reason ? { error: core.reason } : {}),
    };
  const email = (metadata?.email as { delivery?: { status?: unknown; error?: unknown } } | undefined)?.delivery;
  if (email && typeof email === 'object' && typeof email.status === 'string') return { status: email.status, ...(typeof email.error === 'string' && email.error ? { error: email.error } : {}) };
  return null;
}

/**
 * The line under a reply. A failed one says "Not delivered." and why in people's words (the agent
 * can retry it now); a code without words here says the generic sentence, never the code.
 */
export function deliveryText(delivery: { status: string; error?: string }): string {
  const status = statuses[delivery.status] ?? delivery.status;
  const reason = delivery.error ? reasonText(delivery.error) : '';
  if (delivery.status === 'failed') return reason ? `Not delivered. ${reason}` : 'Not delivered.';
  if (!reason) return `Delivery: ${status}`;
  return delivery.status === 'queued' ? `Delivery: ${status}, trying again. ${reason}` : `Delivery: ${status}. ${reason}`;
}

function reasonText(error: string): string {
  if (failures[error]) return failures[error];
  return /^[a-z][a-z0-9_]*\.[a-z0-9_.]+$/.test(error) ? UNKNOWN_CODE : error;
}
