import type { Queryable } from '../../db/pool.js';
import type { Visibility } from '../auth/roles.js';
import { inWorkspaceTx, withSystem } from '../../db/tenancy.js';
import type { Pool } from '../../db/pool.js';
import { randomUUID } from 'node:crypto';
import { eventForStatement, recordEvents, type NewEvent } from '../../events/outbox.js';
import { inTx, principalOf, type WorkspaceContext } from '../context.js';
import { customersWithOpenConversation, recentConversationsOfCustomer } from '../conversations/conversations.customers.service.js';
import type { SearchLimiter } from '../conversations/conversations.search.limiter.js';
import { customerErrors } from './customers.errors.js';
import { customersRepository, type IdentityKind } from './customers.repository.js';
import type { AddIdentityInput, CreateCustomerInput, CustomerView, ListCustomersFilter, UpdateCustomerInput } from './customers.schemas.js';

/** Identities are stored in one canonical form, so "Ann@X.com " and "ann@x.com" are one customer. */
export function normalizeIdentity(kind: IdentityKind, value: string): string {
  const v = value.trim();
  if (kind === 'email') return v.toLowerCase();
  if (kind === 'phone') {
    const digits = v.replace(/[\s().-]/g, '');
    if (!/^\+?[0-9]{4,20}$/.test(digits)) throw customerErrors.invalidPhone();
    return digits;
  }
  return v;
}

/** Kinds this module normalises itself; any other kind comes from a channel, which normalised it. */
const CORE_KINDS = new Set(['email', 'phone', 'external_id']);
const KIND_FORMAT = /^[a-z][a-z0-9_]{1,31}$/;

/** A channel's identity, as its adapter normalised it: the core kinds still get their own rules. */
export interface ChannelIdentity {
  kind: IdentityKind;
  value: string;
}

function identitiesOf(input: { email?: string; phone?: string; externalId?: string; identities?: ChannelIdentity[] }): [IdentityKind, string][] {
  const list: [IdentityKind, string][] = [];
  for (const i of input.identities ?? []) {
    if (!KIND_FORMAT.test(i.kind)) throw customerErrors.unknownIdentityKind(`"${i.kind.slice(0, 40)}" is not an identity kind.`);
    const value = CORE_KINDS.has(i.kind) ? normalizeIdentity(i.kind, i.value) : i.value.trim();
    if (!value || value.length > 500) throw customerErrors.identityRequired();
    list.push([i.kind, value]);
  }
  if (input.email !== undefined) list.push(['email', normalizeIdentity('email', input.email)]);
  if (input.phone !== undefined) list.push(['phone', normalizeIdentity('phone', input.phone)]);
  if (input.externalId !== undefined) list.push(['external_id', normalizeIdentity('external_id', input.externalId)]);
  return list;
}

/** Thrown when a concurrent request created the same identity first; the caller's transaction retries. */
export class IdentityRace extends Error {}

export async function createCustomer(deps: WorkspaceContext, input: CreateCustomerInput): Promise<CustomerView> {
  const identities = identitiesOf(input);
  if (identities.length === 0) throw customerErrors.identityRequired();
  return inWorkspaceTx(deps, async (tx) => {
    const at = deps.clock.now();
    const id = await customersRepository.insert(tx, deps.workspaceId, { name: input.name ?? null, customAttributes: input.customAttributes ?? {}, at });
    for (const [kind, value] of identities) {
      if (!(await customersRepository.addIdentity(tx, deps.workspaceId, id, kind, value, at))) throw customerErrors.identityUnavailable();
    }
    await recordEvents(tx, [{ workspaceId: deps.workspaceId, type: 'customer.created', actor: deps.actor, data: { customerId: id }, at }]);
    return (await customersRepository.find(tx, deps.workspaceId, id))!;
  });
}

/**
 * The customer who owns the first of these identities, or a new one holding them all. Used by
 * conversation creation and the channels: the same email or phone always lands on the same customer.
 * One statement (customersRepository.findOrCreate): the look-up, the customer, its identities and
 * its customer.created event, checked against the catalogue here first. Also returns the
 * customer's name, first email and first phone, which a new conversation's view shows.
 */
export async function findOrCreateCustomer(
  tx: Queryable,
  deps: WorkspaceContext,
  input: { name?: string; email?: string; phone?: string; externalId?: string; identities?: ChannelIdentity[] },
  at: Date,
): Promise<{ customerId: string; created: boolean; name: string | null; email: string | null; phone: string | null }> {
  const identities = distinct(identitiesOf(input));
  if (identities.length === 0) throw customerErrors.identityRequired();
  const newId = randomUUID();
  const event = eventForStatement({ workspaceId: deps.workspaceId, type: 'customer.created', actor: deps.actor, data: { customerId: newId }, at });
  let r: Awaited<ReturnType<typeof customersRepository.findOrCreate>>;
  try {
    r = await customersRepository.findOrCreate(tx, deps.workspaceId, identities, { id: newId, name: input.name ?? null, at, event });
  } catch (error) {
    // A kind no channel registered (identity_kinds): a coded refusal, not a 500.
    if ((error as { constraint?: string }).constraint === 'customer_identities_kind_fkey') {
      // PostgreSQL names the missing key: "Key (kind)=(carrier_pigeon) is not present in table ...".
      const kind = /\(kind\)=\(([^)]*)\)/.exec((error as { detail?: string }).detail ?? '')?.[1] ?? identities.map((i) => i[0]).find((k) => !CORE_KINDS.has(k));
      throw customerErrors.unknownIdentityKind(`"${kind}" is not a registered identity kind.`);
    }
    throw error;
  }
  if (r.foundId) return { customerId: r.foundId, created: false, name: r.name, email: r.email, phone: r.phone };
  // A concurrent transaction committed one of these identities after this statement's snapshot.
  if (r.identitiesAdded < identities.length) throw new IdentityRace();
  const first = (kind: string) => identities.find((i) => i[0] === kind)?.[1] ?? null;
  return { customerId: newId, created: true, name: input.name ?? null, email: first('email'), phone: first('phone') };
}

/** The same identity named twice (an email also listed in `identities`) is one identity. */
function distinct(list: [IdentityKind, string][]): [IdentityKind, string][] {
  const seen = new Set<string>();
  return list.filter(([kind, value]) => {
    const key = `${kind}\n${value}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * Makes the identity kinds channels declare known to the database (identity_kinds), at start-up:
 * a channel brings its kinds with it instead of a migration editing a check list.
 */
export async function registerIdentityKinds(pool: Pool, kinds: { kind: string; description: string }[]): Promise<void> {
  for (const k of kinds) if (!KIND_FORMAT.test(k.kind)) throw new Error(`identity kind "${k.kind}" must match ${KIND_FORMAT}`);
  await withSystem(pool, (tx) => customersRepository.registerIdentityKinds(tx, kinds));
}

/** What a reader may see of a customer: the internal note is for agents only (0420). */
function forReader<T extends CustomerView>(customer: T, visibility: Visibility): T {
  if (visibility === 'internal') return customer;
  const { notes: _hidden, ...rest } = customer;
  return rest as T;
}

/** `visibility`: a client viewer's conversation times move only with public activity (no note moves them), and it never reads the note. */
export async function getCustomer(deps: WorkspaceContext, id: string, visibility: Visibility = 'internal') {
  return inWorkspaceTx(deps, async (tx) => {
    const customer = await customersRepository.find(tx, deps.workspaceId, id);
    if (!customer) throw customerErrors.notFound();
    // The conversations are the conversations module's: through its service, in this transaction.
    return { ...forReader(customer, visibility), conversations: await recentConversationsOfCustomer(inTx(deps, tx), id, visibility) };
  });
}

/** How many pages' worth of customers one request walks, at most, looking for ones with an open conversation. */
const MAX_FILTER_WALK = 10;

/**
 * Customers newest first; with `q`, a search, paced per user or API token like conversation search.
 * `kind` and the created range are conditions of the walk. `hasOpenConversation` is the
 * conversations module's to answer: the walk goes on in batches, each checked through its service
 * (one query per batch), for at most MAX_FILTER_WALK batches; a page may then come back short, with
 * `last` (the last customer walked) to go on from, so a rare filter never walks a whole workspace in
 * one request.
 */
export async function listCustomers(
  deps: WorkspaceContext & { searchLimiter: SearchLimiter },
  opts: { limit: number; after?: [string, string]; q?: string } & ListCustomersFilter,
  visibility: Visibility = 'internal',
): Promise<{ items: CustomerView[]; last: CustomerView | undefined }> {
  if (opts.q) deps.searchLimiter.take(principalOf(deps.actor));
  return inWorkspaceTx(deps, async (tx) => {
    const { hasOpenConversation, ...walk } = opts;
    if (hasOpenConversation === undefined) {
      const items = await customersRepository.list(tx, deps.workspaceId, walk);
      return { items: items.map((c) => forReader(c, visibility)), last: items.length === opts.limit ? items[items.length - 1] : undefined };
    }
    const items: CustomerView[] = [];
    let after = opts.after;
    for (let batch = 0; batch < MAX_FILTER_WALK; batch++) {
      const walked = await customersRepository.list(tx, deps.workspaceId, { ...walk, after });
      const open = await customersWithOpenConversation(
        inTx(deps, tx),
        walked.map((c) => c.id),
      );
      for (const c of walked) {
        if (open.has(c.id) !== hasOpenConversation) continue;
        items.push(forReader(c, visibility));
        if (items.length === opts.limit) return { items, last: c };
      }
      if (walked.length < opts.limit) return { items, last: undefined };
      const end = walked[walked.length - 1];
      after = [end.createdAt, end.id];
    }
    const end = after && { createdAt: after[0], id: after[1] };
    return { items, last: end as CustomerView | undefined };
  });
}

/**
 * The customers a search names (the global search, which paces itself): a name's prefix, or an exact
 * email, phone (in any notation: "+1 (555) 010-0199" finds +15550100199) or external id; newest first.
 */
export async function searchCustomers(deps: WorkspaceContext, q: string, limit: number): Promise<CustomerView[]> {
  const text = q.trim();
  let phone: string | undefined;
  if (/^\+?[0-9 ().-]{4,40}$/.test(text)) {
    try {
      phone = normalizeIdentity('phone', text);
    } catch {
      phone = undefined; // not a phone number after all: the name and identity probes still run
    }
  }
  // A search result never carries the internal note, whoever searches (it is read on the customer's page).
  const found = await inWorkspaceTx(deps, (tx) => customersRepository.list(tx, deps.workspaceId, { limit, q: text, phone }));
  return found.map((c) => forReader(c, 'client'));
}

export async function updateCustomer(deps: WorkspaceContext, id: string, input: UpdateCustomerInput) {
  const identities = identitiesOf(input);
  await inWorkspaceTx(deps, async (tx) => {
    if (!(await customersRepository.lockForUpdate(tx, deps.workspaceId, id))) throw customerErrors.notFound();
    const at = deps.clock.now();
    for (const [kind, value] of identities) {
      if (!(await customersRepository.replaceIdentity(tx, deps.workspaceId, id, kind, value, at))) throw customerErrors.identityUnavailable();
    }
    await customersRepository.update(tx, deps.workspaceId, id, { name: input.name, customAttributes: input.customAttributes, notes: input.notes, at });
    // The note's change is announced to agents only; customer.updated (which client viewers see) never names it.
    const fields = Object.keys(input).filter((f) => f !== 'notes');
    const events: NewEvent[] = [];
    if (fields.length > 0) events.push({ workspaceId: deps.workspaceId, type: 'customer.updated', actor: deps.actor, data: { customerId: id, fields }, at });
    if (input.notes !== undefined) events.push({ workspaceId: deps.workspaceId, type: 'customer.notes_updated', actor: deps.actor, data: { customerId: id }, at });
    await recordEvents(tx, events);
  });
  return getCustomer(deps, id);
}

/** E.164: a +, a country code that does not start with 0, at most 15 digits in all. */
const E164 = /^\+[1-9][0-9]{6,14}$/;
/** A pragmatic address check (one @, a dotted domain, no spaces); the mail server has the last word. */
const EMAIL = /^[^\s@"<>()[\],;:]+@[^\s@"<>()[\],;:]+\.[^\s@"<>()[\],;:]+$/;

/**
 * An agent adds an email address or a phone number to a customer. A phone is stored in
 * international form (E.164: "+44 20 7946 0958" is "+442079460958"; a leading 00 is the same as +),
 * so the same number typed two ways is one identity. An identity another customer of the workspace
 * holds answers 409 customers.identity_unavailable, naming nobody (SECURITY T3).
 */
export async function addIdentity(deps: WorkspaceContext, id: string, input: AddIdentityInput) {
  let value: string;
  if (input.kind === 'email') {
    value = normalizeIdentity('email', input.value);
    if (!EMAIL.test(value)) throw customerErrors.invalidEmail('Write an address such as name@example.com.');
  } else {
    value = input.value
      .trim()
      .replace(/[\s().-]/g, '')
      .replace(/^00/, '+');
    if (!E164.test(value)) throw customerErrors.invalidPhone('Write the number in international form: + then the country code, such as +44 20 7946 0958.');
  }
  await inWorkspaceTx(deps, async (tx) => {
    if (!(await customersRepository.lockForUpdate(tx, deps.workspaceId, id))) throw customerErrors.notFound();
    const at = deps.clock.now();
    if (!(await customersRepository.addIdentity(tx, deps.workspaceId, id, input.kind, value, at))) throw customerErrors.identityUnavailable();
    await customersRepository.touch(tx, deps.workspaceId, id, at);
    await recordEvents(tx, [{ workspaceId: deps.workspaceId, type: 'customer.updated', actor: deps.actor, data: { customerId: id, fields: [input.kind] }, at }]);
  });
  return getCustomer(deps, id);
}

/** Removes one of the customer's identities; the last one stays (a customer is found by its identities). */
export async function removeIdentity(deps: WorkspaceContext, id: string, identityId: string) {
  await inWorkspaceTx(deps, async (tx) => {
    const customer = (await customersRepository.lockForUpdate(tx, deps.workspaceId, id)) && (await customersRepository.find(tx, deps.workspaceId, id));
    if (!customer) throw customerErrors.notFound();
    const identity = customer.identities.find((i) => i.id === identityId);
    if (!identity) throw customerErrors.identityNotFound();
    if (customer.identities.length === 1) throw customerErrors.lastIdentity();
    const at = deps.clock.now();
    await customersRepository.removeIdentity(tx, deps.workspaceId, id, identityId);
    await customersRepository.touch(tx, deps.workspaceId, id, at);
    await recordEvents(tx, [{ workspaceId: deps.workspaceId, type: 'customer.updated', actor: deps.actor, data: { customerId: id, fields: [identity.kind] }, at }]);
  });
  return getCustomer(deps, id);
}

/** A customer's name and identities, inside a channel's transaction (whom a reply goes to). */
export async function customerForChannel(tx: Queryable, ws: string, id: string): Promise<{ id: string; name: string | null; identities: { kind: string; value: string }[] } | undefined> {
  const c = await customersRepository.find(tx, ws, id);
  return c && { id: c.id, name: c.name, identities: c.identities.map((i) => ({ kind: i.kind, value: i.value })) };
}

/**
 * Which of these customers still exist, keyed `workspaceId:customerId`, in one query across
 * workspaces (the caller's system transaction): the realtime hub checks every customer socket of the
 * instance this way at each heartbeat.
 */
export async function existingCustomers(tx: Queryable, refs: Array<{ workspaceId: string; id: string }>): Promise<Set<string>> {
  if (refs.length === 0) return new Set();
  return new Set((await customersRepository.existing(tx, refs)).map((r) => `${r.workspace_id}:${r.id}`));
}

/**
 * The names of these customers (null: unnamed), in one query and in the caller's transaction: how
 * other modules name a message's customer author or a customer's socket. A missing key: no such
 * customer in the workspace.
 */
export async function customerNames(deps: { workspaceId: string; tx: Queryable }, ids: Iterable<string>): Promise<Map<string, string | null>> {
  const wanted = [...new Set(ids)];
  if (wanted.length === 0) return new Map();
  return new Map((await customersRepository.names(deps.tx, deps.workspaceId, wanted)).map((r) => [r.id, r.name]));
}
