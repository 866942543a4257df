import type { Queryable } from '../../db/pool.js';
import { customerNames } from '../customers/customers.service.js';
import { actorKey, actorNames } from '../workspaces/workspaces.service.js';
import type { MessageRow } from './conversations.repository.js';
import type { ConversationView } from './conversations.schemas.js';

/**
 * Completes the one read model of a message (`MessageRow`) with its author's name: a customer's from
 * the customers module, a user's or an API token's from the workspaces module, each asked once for
 * the whole page in the caller's transaction (at most two short queries, none when the page has no
 * such author), never by joining their tables. A bot's name is already on the row. The API's thread,
 * a new reply and the channels (`findMessageForChannel`) all read messages through this.
 */
export async function withAuthorNames<R extends MessageRow>(tx: Queryable, workspaceId: string, rows: R[]): Promise<R[]> {
  const deps = { workspaceId, tx };
  const customers = rows.filter((r) => r.author_type === 'customer' && r.author_id).map((r) => r.author_id!);
  // One after the other: both run on the caller's one connection.
  const people = await actorNames(
    deps,
    rows.map((r) => ({ type: r.author_type, id: r.author_id })),
  );
  const customerName = await customerNames(deps, customers);
  return rows.map((r) => {
    if (!r.author_id || r.author_type === 'bot') return r;
    const name = r.author_type === 'customer' ? customerName.get(r.author_id) : people.get(actorKey(r.author_type, r.author_id));
    return { ...r, author_name: name ?? null };
  });
}

/**
 * Fills the name of each row's last message author that is an agent or an API token (a customer's
 * is on the row): one look-up for the whole page, in the page's transaction, so the inbox list pays
 * one short query per page and none per row.
 */
export async function withLastAuthorNames<V extends ConversationView>(tx: Queryable, workspaceId: string, views: V[]): Promise<V[]> {
  const authors = views.flatMap((v) => (v.lastMessage && !v.lastMessage.author.name && v.lastMessage.author.id ? [v.lastMessage.author] : []));
  if (authors.length === 0) return views;
  const people = await actorNames({ workspaceId, tx }, authors);
  return views.map((v) => {
    const a = v.lastMessage?.author;
    const name = a?.id && !a.name ? people.get(actorKey(a.type, a.id)) : undefined;
    return name ? { ...v, lastMessage: { ...v.lastMessage!, author: { ...a!, name } } } : v;
  });
}
