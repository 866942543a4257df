import { ApiError } from '../../api/client.js';
import { errorMessage } from '../../components/States.js';

/**
 * What a refused customer change says, in people's words (issue #10: never a JSON path or a regular
 * expression). `field` names what the person was editing, for the refusals that only say "not valid".
 */
const BY_CODE: Record<string, string> = {
  'customers.invalid_email': 'That does not look like an email address. Write it like name@example.com.',
  'customers.invalid_phone': 'Write the phone number in international form: a + and the country code first, like +44 20 7946 0958.',
  'customers.identity_unavailable': 'Another customer already has this email address or phone number.',
  'customers.last_identity': 'A customer needs at least one email address or phone number: add another before removing this one.',
  'customers.identity_not_found': 'That address or number was already removed.',
  'customers.not_found': 'This customer no longer exists.',
  'conversations.not_customers_address': "Choose one of the customer's email addresses.",
  'conversations.inbox_cannot_email': 'That inbox cannot send email. Choose an email inbox.',
  'inboxes.not_found': 'That inbox no longer exists. Choose another.',
};

const BY_FIELD: Record<string, string> = {
  name: 'A name is at most 200 characters.',
  notes: 'The note is at most 10,000 characters.',
  subject: 'Write a subject (at most 500 characters).',
  body: 'Write a message.',
  to: "Choose one of the customer's email addresses.",
};

export function customerErrorMessage(error: unknown, field?: keyof typeof BY_FIELD): string {
  if (error instanceof ApiError) {
    const known = BY_CODE[error.code];
    if (known) return known;
    if (error.status === 422 && field) return BY_FIELD[field];
    if (error.status === 422) return 'Something in the form is not valid. Check it and try again.';
  }
  return errorMessage(error);
}

/** The same checks the server makes, before sending: an answer at once, in the same words. */
export function checkIdentity(kind: 'email' | 'phone', value: string): string | null {
  const v = value.trim();
  if (!v) return kind === 'email' ? 'Write an email address.' : 'Write a phone number.';
  if (kind === 'email') return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v) ? null : BY_CODE['customers.invalid_email'];
  const digits = v.replace(/[\s().-]/g, '').replace(/^00/, '+');
  return /^\+[1-9][0-9]{6,14}$/.test(digits) ? null : BY_CODE['customers.invalid_phone'];
}
