import type { PoolClient, Queryable } from '../../db/pool.js';
import { inWorkspaceTx, withWorkspace } from '../../db/tenancy.js';
import type { Actor, DomainEvent } from '../../events/events.types.js';
import { recordEvents } from '../../events/outbox.js';
import { enqueue } from '../../jobs/queue.js';
import { decodeCursor, encodeCursor } from '../../lib/cursor.js';
import { plainLabel } from '../../lib/labels.js';
import type { Logger } from '../../lib/logger.js';
import type { SystemMailer } from '../../lib/system-mail.js';
import { atLeast } from '../auth/roles.js';
import type { Deps, WorkspaceContext } from '../context.js';
import { conversationViewsByIds, messageInConversation } from '../conversations/conversations.service.js';
import { findAccount } from '../workspaces/workspaces.accounts.service.js';
import { actorKey, actorNames, isAgentOf, listMembers } from '../workspaces/workspaces.service.js';
import { notificationErrors } from './notifications.errors.js';
import { mentionedIn } from './notifications.mentions.js';
import { sentenceOf } from './notifications.sentences.js';
import { notificationsRepository as repo, type NewNotification, type NotificationRow } from './notifications.repository.js';
import {
  type MarkAllReadInput,
  NOTIFICATION_KINDS,
  type NotificationKind,
  type NotificationPreferencesView,
  type NotificationView,
  type NotificationsQuery,
  type UpdatePreferencesInput,
} from './notifications.schemas.js';

export const NOTIFICATION_EMAIL_TASK = 'notifications.email';
const EXCERPT_CHARS = 200;

type NotifyEvent = DomainEvent<'conversation.assigned' | 'message.created' | 'message.delivery_changed'>;
type Draft = Omit<NewNotification, 'sourceEventId' | 'at'>;

const excerptOf = (text: string | null | undefined) => plainLabel((text ?? '').replace(/\s+/g, ' '), EXCERPT_CHARS);

export function toNotificationView(r: NotificationRow): NotificationView {
  return {
    id: r.id,
    kind: r.kind as NotificationKind,
    conversationId: r.conversation_id,
    conversationNumber: r.conversation_number,
    actor: { type: r.actor_type, id: r.actor_id, name: r.actor_name },
    excerpt: r.excerpt,
    createdAt: r.created_at.toISOString(),
    readAt: r.read_at?.toISOString() ?? null,
  };
}

/** Notifications are a person's: the signed-in member, never an API token (403 notifications.people_only). */
function personOf(ctx: WorkspaceContext): string {
  if (ctx.actor.type !== 'user' || !ctx.actor.id) throw notificationErrors.peopleOnly();
  return ctx.actor.id;
}

// ---- writing them (the subscriber) ---------------------------------------------------------------

export interface NotifyDeps {
  pool: Deps['pool'];
  clock: Deps['clock'];
  log: Logger;
  /** Whether the server can send email at all (a system mail relay is set): no relay, no email jobs. */
  emailAvailable: boolean;
}

/**
 * The notifications an event makes, written with their `notification.created` events (and email jobs,
 * per each person's preferences) in one transaction. Idempotent: one row per person and source event,
 * so a redelivered event writes nothing and records nothing.
 */
export async function notifyOf(deps: NotifyDeps, event: NotifyEvent): Promise<number> {
  return withWorkspace(deps.pool, event.workspaceId, async (tx) => {
    const ctx: WorkspaceContext = { pool: deps.pool, clock: deps.clock, workspaceId: event.workspaceId, actor: event.actor, tx };
    const drafts = await draftsFor(ctx, tx, event);
    let made = 0;
    for (const d of drafts) if (await create(deps, tx, ctx, event, d)) made++;
    return made;
  });
}

async function draftsFor(ctx: WorkspaceContext, tx: PoolClient, event: NotifyEvent): Promise<Draft[]> {
  const ws = ctx.workspaceId;
  if (event.type === 'conversation.assigned') {
    const to = event.data.to;
    // Nobody is told what they did themselves.
    if (!to || !event.conversationId || (event.actor.type === 'user' && event.actor.id === to)) return [];
    if (!(await isAgentOf(ctx, to))) return [];
    const [conversation] = await conversationViewsByIds(tx, ws, [event.conversationId]);
    if (!conversation) return [];
    const actor = await named(tx, ws, event.actor);
    return [
      {
        userId: to,
        kind: 'assigned',
        conversationId: conversation.id,
        conversationNumber: conversation.number,
        actor,
        excerpt: excerptOf(conversation.subject ?? conversation.lastMessage?.preview),
      },
    ];
  }
  if (event.type === 'message.delivery_changed') return deliveryFailedDrafts(ctx, tx, event);
  if (event.data.messageType === 'outbound') return [];
  const found = await messageInConversation(tx, ws, event.data.messageId);
  if (!found) return [];
  const { message, conversation } = found;
  const base = { conversationId: conversation.id, conversationNumber: conversation.number, excerpt: excerptOf(message.body) };
  if (message.type === 'inbound') {
    // The message that opened the conversation is not a reply to anyone: an assignee given later was
    // told of the assignment (read after the fact, the assignee would be told twice).
    if (message.createdAt === conversation.createdAt) return [];
    const to = conversation.assigneeId;
    if (!to || !(await isAgentOf(ctx, to))) return [];
    const name = message.author.name ?? conversation.customer.name ?? conversation.customer.email;
    return [{ ...base, userId: to, kind: 'customer_replied', actor: { type: 'customer', id: message.author.id, name: name ? plainLabel(name, 200) : null } }];
  }
  if (message.type !== 'note') return [];
  // A note is internal: only members who may read notes (agent and up) can be mentioned, and only
  // members of this workspace are candidates at all (listMembers reads this workspace's memberships).
  const members = (await listMembers(ctx)).items.filter((m) => atLeast(m.role, 'agent'));
  const author = message.author.type === 'user' ? message.author.id : null;
  const mentioned = mentionedIn(message.body, members).filter((id) => id !== author);
  if (mentioned.length === 0) return [];
  const actor = { type: message.author.type, id: message.author.id, name: message.author.name };
  return mentioned.map((userId) => ({ ...base, userId, kind: 'mentioned' as const, actor }));
}

/** A reply that failed for good: its writer (a member who is still an agent) is told, to retry or reach the customer another way. */
async function deliveryFailedDrafts(ctx: WorkspaceContext, tx: PoolClient, event: DomainEvent<'message.delivery_changed'>): Promise<Draft[]> {
  if (event.data.status !== 'failed') return [];
  const found = await messageInConversation(tx, ctx.workspaceId, event.data.messageId);
  if (!found) return [];
  const { message, conversation } = found;
  const to = message.author.type === 'user' ? message.author.id : null;
  if (message.type !== 'outbound' || !to || !(await isAgentOf(ctx, to))) return [];
  return [
    {
      userId: to,
      kind: 'delivery_failed',
      conversationId: conversation.id,
      conversationNumber: conversation.number,
      actor: { type: 'system', id: null, name: null },
      excerpt: excerptOf(message.body),
    },
  ];
}

async function named(tx: Queryable, ws: string, actor: Actor): Promise<Draft['actor']> {
  if (!actor.id || (actor.type !== 'user' && actor.type !== 'token')) return { type: actor.type, id: actor.id, name: null };
  const names = await actorNames({ workspaceId: ws, tx }, [actor]);
  return { type: actor.type, id: actor.id, name: names.get(actorKey(actor.type, actor.id)) ?? null };
}

async function create(deps: NotifyDeps, tx: PoolClient, ctx: WorkspaceContext, event: NotifyEvent, d: Draft): Promise<boolean> {
  const at = deps.clock.now();
  const row = await repo.insert(tx, ctx.workspaceId, { ...d, sourceEventId: event.id, at });
  if (!row) return false;
  await recordEvents(tx, [
    {
      workspaceId: ctx.workspaceId,
      conversationId: null,
      type: 'notification.created',
      actor: event.actor,
      data: { notificationId: row.id, userId: row.user_id, kind: row.kind, conversationId: row.conversation_id },
      at,
    },
  ]);
  if (deps.emailAvailable && (await repo.emailKinds(tx, ctx.workspaceId, d.userId)).includes(d.kind)) {
    // Off the request path, and only if this commits; one mail per notification (the key).
    await enqueue(tx, NOTIFICATION_EMAIL_TASK, { workspaceId: ctx.workspaceId, notificationId: row.id }, { jobKey: `notifications.email:${row.id}`, maxAttempts: 8 });
  }
  return true;
}

// ---- reading and marking them (the API) ----------------------------------------------------------

export async function listNotifications(ctx: WorkspaceContext, q: NotificationsQuery): Promise<{ items: NotificationView[]; nextCursor: string | null; unread: number }> {
  const userId = personOf(ctx);
  const limit = q.limit ?? 50;
  const after = q.cursor ? (decodeCursor(q.cursor, ['timestamp', 'uuid']) as [string, string]) : null;
  return inWorkspaceTx(ctx, async (tx) => {
    const rows = await repo.list(tx, ctx.workspaceId, userId, { limit: limit + 1, after, unreadOnly: q.unread === true });
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    const nextCursor = rows.length > limit && last ? encodeCursor([last.created_at.toISOString(), last.id]) : null;
    return { items: page.map(toNotificationView), nextCursor, unread: await repo.unreadCount(tx, ctx.workspaceId, userId) };
  });
}

export async function unreadCount(ctx: WorkspaceContext): Promise<{ unread: number }> {
  const userId = personOf(ctx);
  return { unread: await inWorkspaceTx(ctx, (tx) => repo.unreadCount(tx, ctx.workspaceId, userId)) };
}

/** Marks one of my notifications read; someone else's, another workspace's or a missing one is 404 alike. */
export async function markRead(ctx: WorkspaceContext, id: string): Promise<NotificationView> {
  const userId = personOf(ctx);
  return inWorkspaceTx(ctx, async (tx) => {
    const at = ctx.clock.now();
    const done = await repo.markRead(tx, ctx.workspaceId, userId, id, at);
    if (!done) throw notificationErrors.notFound();
    if (done.changed) await recordEvents(tx, [{ workspaceId: ctx.workspaceId, conversationId: null, type: 'notification.read', actor: ctx.actor, data: { userId, notificationId: id }, at }]);
    return toNotificationView(done.row);
  });
}

/** Marks all my notifications read, or those about one conversation (opening it reads them). */
export async function markAllRead(ctx: WorkspaceContext, input: MarkAllReadInput = {}): Promise<{ marked: number; unread: number }> {
  const userId = personOf(ctx);
  return inWorkspaceTx(ctx, async (tx) => {
    const at = ctx.clock.now();
    const marked = await repo.markAllRead(tx, ctx.workspaceId, userId, at, input.conversationId ?? null);
    if (marked > 0) await recordEvents(tx, [{ workspaceId: ctx.workspaceId, conversationId: null, type: 'notification.read', actor: ctx.actor, data: { userId, notificationId: null }, at }]);
    return { marked, unread: await repo.unreadCount(tx, ctx.workspaceId, userId) };
  });
}

function preferencesView(kinds: string[], emailAvailable: boolean): NotificationPreferencesView {
  const email = Object.fromEntries(NOTIFICATION_KINDS.map((k) => [k, kinds.includes(k)])) as NotificationPreferencesView['email'];
  return { email, emailAvailable };
}

export async function getPreferences(ctx: WorkspaceContext, emailAvailable: boolean): Promise<NotificationPreferencesView> {
  const userId = personOf(ctx);
  return preferencesView(await inWorkspaceTx(ctx, (tx) => repo.emailKinds(tx, ctx.workspaceId, userId)), emailAvailable);
}

export async function updatePreferences(ctx: WorkspaceContext, input: UpdatePreferencesInput, emailAvailable: boolean): Promise<NotificationPreferencesView> {
  const userId = personOf(ctx);
  const kinds = await inWorkspaceTx(ctx, async (tx) => {
    const current = await repo.emailKinds(tx, ctx.workspaceId, userId);
    const chosen = NOTIFICATION_KINDS.filter((k) => input.email[k] ?? current.includes(k));
    await repo.setEmailKinds(tx, ctx.workspaceId, userId, chosen, ctx.clock.now());
    return chosen;
  });
  return preferencesView(kinds, emailAvailable);
}

// ---- emailing them (the job) ---------------------------------------------------------------------

export interface EmailDeps {
  pool: Deps['pool'];
  clock: Deps['clock'];
  mailer: SystemMailer | null;
  /** The address people open (PUBLIC_URL), for the link to the conversation. */
  publicUrl: string;
}

/**
 * Emails one notification through the operator's relay: once (`emailed_at`), and not at all when it
 * was read in the app before the job ran, when the person left or is no longer an agent there. A failed send throws, so the job is
 * retried with backoff; a send that succeeds just before a crash may repeat once (at least once).
 */
export async function emailNotification(deps: EmailDeps, workspaceId: string, notificationId: string): Promise<'sent' | 'skipped'> {
  if (!deps.mailer) return 'skipped';
  const row = await withWorkspace(deps.pool, workspaceId, (tx) => repo.find(tx, workspaceId, notificationId));
  if (!row || row.emailed_at || row.read_at) return 'skipped';
  const account = await findAccount({ pool: deps.pool }, row.user_id);
  if (!account || account.disabled_at) return 'skipped';
  // Still an agent of the workspace when the job runs (it may run after retries): a member demoted to
  // client viewer since gets no email quoting an internal note, as the app shows them none.
  const ctx = { pool: deps.pool, clock: deps.clock, workspaceId, actor: { type: 'system' as const, id: null } };
  if (!(await isAgentOf(ctx, row.user_id))) return 'skipped';
  const view = toNotificationView(row);
  const sentence = sentenceOf(view);
  const link = row.conversation_id ? `${deps.publicUrl}/w/${workspaceId}/v/all/c/${row.conversation_id}` : `${deps.publicUrl}/w/${workspaceId}`;
  const text = [`${sentence}.`, '', ...(view.excerpt ? [`"${view.excerpt}"`, ''] : []), `Open it in Rapport: ${link}`, '', 'You get this email because of your notification settings in Rapport.'].join(
    '\n',
  );
  await deps.mailer.send({ to: account.email, subject: plainLabel(sentence, 200), text });
  await withWorkspace(deps.pool, workspaceId, (tx) => repo.markEmailed(tx, workspaceId, notificationId, deps.clock.now()));
  return 'sent';
}
