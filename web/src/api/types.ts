/**
 * Shapes of the API the web app reads. Where the server has a TypeBox schema, the type comes from it
 * (type-only imports: nothing of the server reaches the bundle).
 */
import type { Static } from 'typebox';
import type { EventJson, EventType } from '../../../src/events/events.types.js';
import type { ConversationView, MessageView, Status, Priority } from '../../../src/modules/conversations/conversations.schemas.js';
import type { Customer as CustomerSchema, CustomerDetail as CustomerDetailSchema } from '../../../src/modules/customers/customers.schemas.js';
import type { Member as MemberSchema, TokenInfo as TokenInfoSchema, CreatedToken as CreatedTokenSchema } from '../../../src/modules/workspaces/workspaces.schemas.js';
import type { Inbox as InboxSchema } from '../../../src/modules/inboxes/inboxes.schemas.js';
import type { Role } from '../../../src/modules/auth/roles.js';
import type { EmailMessageMetadata } from '../../../src/modules/channels/email/email.service.js';
import type { ConversationCounts, SavedView as SavedViewSchema, SavedViewFilters as SavedViewFiltersSchema } from '../../../src/modules/views/views.schemas.js';
import type { BulkAction as BulkActionName, BulkResult as BulkResultSchema } from '../../../src/modules/conversations/conversations.schemas.js';

export type { Status, Priority, Role, EventType };
export type Conversation = ConversationView;
export type Message = MessageView;
/** One entry of a conversation's timeline: a switch on `type` narrows `data` to that event's payload. */
export type TimelineEvent = EventJson;
export type CustomerDetail = Static<typeof CustomerDetailSchema>;
export type Customer = Static<typeof CustomerSchema>;
/** The customer list's search and filters (GET /customers), as the screen keeps them in its URL. */
export interface CustomerFilters {
  q?: string;
  kind?: string;
  hasOpenConversation?: boolean;
  createdAfter?: string;
}
export type Member = Static<typeof MemberSchema>;
export type TokenInfo = Static<typeof TokenInfoSchema>;
export type CreatedToken = Static<typeof CreatedTokenSchema>;
export type Inbox = Static<typeof InboxSchema>;

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface WorkspaceSummary {
  id: string;
  name: string;
  slug: string;
  role: Role;
}

export interface SecurityAlert {
  id: string;
  kind: 'password_guessing' | 'password_reset' | 'password_changed';
  message: string;
  createdAt: string;
}

export interface Session {
  user: { id: string; email: string; name: string; instanceAdmin: boolean };
  workspaces: WorkspaceSummary[];
  csrfToken: string;
  /** Security alerts about this account not yet dismissed (e.g. many wrong passwords tried on it). */
  alerts: SecurityAlert[];
}

export interface AcceptedInvitation {
  workspace: { id: string; name: string; slug: string };
  email: string;
  role: Role;
  /** sign_in: sign in with the invited email and password; open: joined while signed in. */
  next: 'sign_in' | 'open';
}

export interface Team {
  id: string;
  name: string;
  memberIds: string[];
  createdAt: string;
}

export interface MacroActions {
  status?: Status;
  priority?: Priority;
  addTags?: string[];
}

export interface Macro {
  id: string;
  name: string;
  body: string;
  actions: MacroActions;
  createdAt?: string;
  updatedAt?: string;
}

/** GET /counts: the server's schema (views.schemas.ts), so a field it adds or renames is a compile error here. */
export type Counts = ConversationCounts;
/** A view's status filter: one status, or `active` (open and pending). */
export type StatusFilter = NonNullable<ConversationCounts['status']>;

export interface Invitation {
  id: string;
  email: string;
  role: Role;
  createdAt?: string;
  expiresAt?: string;
  acceptedAt?: string | null;
  /** On create: `emailed` when the server mailed the link to the invitee; `link` when it answers the link to pass on (no mail relay). */
  delivery?: 'emailed' | 'link';
  /** Handed back once, on create, only when delivery is `link`: the link to send (the token rides in the URL fragment). */
  acceptUrl?: string;
  token?: string;
}

export interface ConversationFilters {
  status?: Status[];
  assignee?: string;
  team?: string;
  priority?: Priority;
  tag?: string;
  q?: string;
  sort?: 'last_activity' | 'waiting_longest';
}

/**
 * What the email channel puts in message.metadata.email: the server's own type (type-only import,
 * nothing of the server reaches the bundle). Inbound email carries all of it; an agent's email reply
 * carries a subset (cc, then to and messageId once the outbound job queued it), hence Partial. Its
 * delivery status is every channel's metadata.delivery (delivery.ts reads both it and the old place).
 */
export type EmailMetadata = Partial<EmailMessageMetadata>;
export type EmailAddress = EmailMessageMetadata['to'][number];

/** POST /email/uploads: a file staged for an email reply (sent with attachmentIds). */
export interface EmailUpload {
  id: string;
  name: string;
  size: number;
  contentType: string;
}

/** GET /tags: tags in use, with how many open or pending conversations carry each. */
export interface TagCount {
  tag: string;
  count: number;
}

/** A saved view: named inbox filters, the member's own or shared with the workspace. */
export type SavedView = SavedViewSchema;
export type SavedViewFilters = SavedViewFiltersSchema;
export type BulkAction = BulkActionName;
export type BulkResult = BulkResultSchema;
