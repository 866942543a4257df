import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Config } from '../../config.js';
import type { Clock } from '../../lib/clock.js';
import { loadInstanceKey } from '../../lib/instance-key.js';
import { getCustomer } from '../customers/customers.service.js';
import type { WorkspaceContext } from '../context.js';

/**
 * The customer principal: a credential naming one workspace, one customer and an expiry, signed with
 * an HMAC-SHA256 keyed by a server secret that never enters the database (REALTIME_CUSTOMER_SECRET, or
 * one generated once in DATA_DIR, like the Idempotency-Key secret). Nothing is stored per credential:
 * it is checked by its signature and expiry alone, so it cannot be revoked before it expires; keep it
 * short (at most a day, an hour by default) and mint a new one when the widget or portal reconnects.
 *
 *   rc1.<base64url of {"w":workspaceId,"c":customerId,"e":expiry in unix seconds}>.<base64url of the MAC>
 *
 * The MAC covers the version and the payload, so neither can be changed; a credential of another
 * workspace names that workspace and is refused like a forged one.
 */
export interface CustomerCredential {
  workspaceId: string;
  customerId: string;
  expiresAt: Date;
}

const VERSION = 'rc1';
export const CUSTOMER_CREDENTIAL_TTL = { defaultSeconds: 3600, maxSeconds: 86_400 };
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export class CustomerCredentials {
  constructor(
    private readonly key: Buffer,
    private readonly clock: Clock,
  ) {}

  private mac(text: string): Buffer {
    return createHmac('sha256', this.key).update(text).digest();
  }

  mint(input: { workspaceId: string; customerId: string; ttlSeconds?: number }): { token: string; expiresAt: Date } {
    const ttl = Math.min(Math.max(input.ttlSeconds ?? CUSTOMER_CREDENTIAL_TTL.defaultSeconds, 1), CUSTOMER_CREDENTIAL_TTL.maxSeconds);
    const expires = Math.floor(this.clock.now().getTime() / 1000) + ttl;
    const payload = Buffer.from(JSON.stringify({ w: input.workspaceId.toLowerCase(), c: input.customerId.toLowerCase(), e: expires })).toString('base64url');
    const signed = `${VERSION}.${payload}`;
    return { token: `${signed}.${this.mac(signed).toString('base64url')}`, expiresAt: new Date(expires * 1000) };
  }

  /** Whether a verified credential is still within its expiry (re-checked at every heartbeat). */
  isLive(credential: { expiresAt: Date }): boolean {
    return credential.expiresAt.getTime() > this.clock.now().getTime();
  }

  /** The credential if its signature holds and it has not expired; null otherwise (one answer for every failure). */
  verify(token: string): CustomerCredential | null {
    if (token.length > 400) return null;
    const parts = token.split('.');
    if (parts.length !== 3 || parts[0] !== VERSION) return null;
    const expected = this.mac(`${parts[0]}.${parts[1]}`);
    const given = Buffer.from(parts[2], 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    let claims: { w?: unknown; c?: unknown; e?: unknown };
    try {
      claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    } catch {
      return null;
    }
    if (typeof claims.w !== 'string' || typeof claims.c !== 'string' || typeof claims.e !== 'number') return null;
    if (!UUID_RE.test(claims.w) || !UUID_RE.test(claims.c)) return null;
    const expiresAt = new Date(claims.e * 1000);
    if (expiresAt.getTime() <= this.clock.now().getTime()) return null;
    return { workspaceId: claims.w, customerId: claims.c, expiresAt };
  }
}

/** The signing key: derived from REALTIME_CUSTOMER_SECRET, or from a random secret made once and kept (mode 600) in DATA_DIR. */
export function loadCustomerCredentialKey(config: Pick<Config, 'dataDir' | 'realtimeCustomerSecret'>): Promise<Buffer> {
  return loadInstanceKey({
    dataDir: config.dataDir,
    value: config.realtimeCustomerSecret,
    file: 'realtime-customer-secret',
    setting: 'REALTIME_CUSTOMER_SECRET',
    what: 'realtime customer secret',
    purpose: 'realtime customer credential v1',
  });
}

/**
 * Mints a credential for a customer of the workspace (404 `customers.not_found` for one of another
 * workspace, like a missing one). The agent API route uses it; the chat widget and the portal will
 * mint theirs through it too, after they have identified their visitor.
 */
export async function mintCustomerCredential(ctx: WorkspaceContext, credentials: CustomerCredentials, customerId: string, ttlSeconds?: number) {
  const customer = await getCustomer(ctx, customerId);
  const { token, expiresAt } = credentials.mint({ workspaceId: ctx.workspaceId, customerId: customer.id, ttlSeconds });
  return { token, expiresAt: expiresAt.toISOString(), workspaceId: ctx.workspaceId, customerId: customer.id };
}
