import type { NotificationView } from './notifications.schemas.js';

/**
 * What a notification says, in people's words: the one wording for the bell, browser notifications
 * (the web app imports this file: it must stay free of server-only imports) and the emails.
 * Names are the customer's or a member's: only ever text (SECURITY E4).
 */
export function sentenceOf(n: Pick<NotificationView, 'kind' | 'conversationNumber' | 'actor'>): string {
  const where = n.conversationNumber === null ? 'a conversation' : `#${n.conversationNumber}`;
  const who = n.actor.name || (n.actor.type === 'customer' ? 'the customer' : n.actor.type === 'system' ? 'Rapport' : 'Someone');
  switch (n.kind) {
    case 'mentioned':
      return `${who} mentioned you in ${where}`;
    case 'assigned':
      return `${where} was assigned to you`;
    case 'customer_replied':
      return `New reply from ${who} on ${where}`;
    case 'delivery_failed':
      return `Your reply on ${where} was not delivered`;
    default:
      // A kind newer than this client (a tab opened before an upgrade).
      return `Something happened in ${where}`;
  }
}
