import type { Clock } from '../../lib/clock.js';
import { authErrors } from './auth.errors.js';
import { clientKey, networkOf } from '../../lib/net/client-address.js';

export interface ThrottleLimits {
  /** Failures for one email from one address. */
  perPair: number;
  /** Failures for one email from anywhere, after which the account is "under attack". */
  perAccount: number;
  /** Failures from one address, whatever the emails. */
  perAddress: number;
  /** Invalid invitation (or other) tokens tried from one address. */
  perAddressTokens: number;
  /** Password reset emails asked for one email, from anywhere (nobody floods a mailbox through us). */
  resetsPerEmail: number;
  /** Password reset emails asked from one address, whatever the emails. */
  resetsPerAddress: number;
  windowMs: number;
}

const DEFAULT_LIMITS: ThrottleLimits = { perPair: 10, perAccount: 100, perAddress: 50, perAddressTokens: 20, resetsPerEmail: 3, resetsPerAddress: 10, windowMs: 15 * 60_000 };

/**
 * Slows password guessing (SECURITY A8) without locking the real person out (issue #8 L1).
 *
 * Within the window, a password check answers 429 after `perPair` failures for one email from one
 * address, or `perAddress` failures from one address (one client trying many people). Past
 * `perAccount` failures for one email from anywhere (a spread-out attack), the account is under
 * attack: every address and network (/24, /64) that has already failed on it is refused, so each
 * further guess needs a fresh network, while a correct password from a new one still signs in. The
 * trade-off is deliberate: refusing everyone would hand any attacker a lockout of anyone; the owner
 * is told instead (`fail` reports when an attack starts, the caller records a security alert), and
 * the password policy keeps passwords beyond what one guess per network can reach.
 * The answer is the same whether the account exists. Kept per instance: behind a load balancer the
 * limits are per instance.
 */
export class LoginThrottle {
  /** Password guesses (per pair, address, account and network). */
  private guesses = new Map<string, number[]>();
  /**
   * Cheap requests (reset emails, token tries), kept apart: a flood of them, which costs no password
   * hash, must not push the guess counts out of memory.
   */
  private requests = new Map<string, number[]>();
  private readonly opts: ThrottleLimits;

  constructor(
    private readonly clock: Clock,
    limits: Partial<ThrottleLimits> = {},
  ) {
    this.opts = { ...DEFAULT_LIMITS, ...limits };
  }

  /** Before checking a password for `email` from `ip`: throws 429 when this guess is not allowed. */
  check(email: string, address: string): void {
    const e = email.toLowerCase();
    const ip = clientKey(address);
    this.refuseOver(`p:${e}|${ip}`, this.opts.perPair);
    this.refuseOver(`i:${ip}`, this.opts.perAddress);
    if (this.recent(`e:${e}`).length >= this.opts.perAccount) {
      this.refuseOver(`p:${e}|${ip}`, 1, `e:${e}`);
      this.refuseOver(`n:${e}|${networkOf(ip)}`, 1, `e:${e}`);
    }
  }

  /** A wrong password. Returns true when this failure starts an attack on the account (alert its owner). */
  fail(email: string, address: string): boolean {
    const e = email.toLowerCase();
    const ip = clientKey(address);
    for (const key of [`p:${e}|${ip}`, `i:${ip}`, `e:${e}`, `n:${e}|${networkOf(ip)}`]) this.push(this.guesses, key);
    return this.recent(`e:${e}`).length === this.opts.perAccount;
  }

  /** How many client addresses and networks have failed on `email` within the window (for the owner's alert). */
  sourcesOf(email: string): { addresses: number; networks: number } {
    const e = email.toLowerCase();
    let addresses = 0;
    let networks = 0;
    for (const key of this.guesses.keys()) {
      if (key.startsWith(`p:${e}|`) && this.recent(key).length > 0) addresses++;
      else if (key.startsWith(`n:${e}|`) && this.recent(key).length > 0) networks++;
    }
    return { addresses, networks };
  }

  /** A right password: the person who finally remembers is not held back later from this address. */
  succeed(email: string, address: string): void {
    this.guesses.delete(`p:${email.toLowerCase()}|${clientKey(address)}`);
  }

  /** Before checking a secret token (an invitation link) from `ip`. */
  checkToken(address: string): void {
    this.refuseOver(`t:${clientKey(address)}`, this.opts.perAddressTokens);
  }

  /**
   * A password reset email asked for `email` from `ip`: throws 429 past the limits, counts it otherwise.
   * Every request counts, whether or not the email has an account, so the answer cannot tell.
   */
  requestReset(email: string, address: string): void {
    const e = email.toLowerCase();
    const ip = clientKey(address);
    const message = 'Too many password reset requests; wait a while and try again.';
    this.refuseOver(`r:${e}`, this.opts.resetsPerEmail, `r:${e}`, message);
    this.refuseOver(`ri:${ip}`, this.opts.resetsPerAddress, `ri:${ip}`, message);
    this.push(this.requests, `r:${e}`);
    this.push(this.requests, `ri:${ip}`);
  }

  /** A token that opened nothing. */
  failToken(address: string): void {
    this.push(this.requests, `t:${clientKey(address)}`);
  }

  /**
   * Counts one more at `key`. The key moves to the end of the map, so when the map is full the keys
   * dropped first are those left alone longest; an attack in progress keeps its own counts.
   */
  private push(map: Map<string, number[]>, key: string): void {
    const times = [...this.recent(key), this.clock.now().getTime()];
    map.delete(key);
    map.set(key, times);
    if (map.size <= MAX_KEYS) return;
    for (const oldest of map.keys()) {
      map.delete(oldest);
      if (map.size <= MAX_KEYS * 0.9) break;
    }
  }

  private refuseOver(key: string, limit: number, windowKey = key, message?: string): void {
    const recent = this.recent(key);
    if (recent.length < limit) return;
    const since = this.recent(windowKey)[0] ?? recent[0];
    const retryAfter = Math.ceil((since + this.opts.windowMs - this.clock.now().getTime()) / 1000);
    throw authErrors.tooManyAttempts(message, { headers: { 'retry-after': String(Math.max(1, retryAfter)) } });
  }

  private recent(key: string): number[] {
    const since = this.clock.now().getTime() - this.opts.windowMs;
    return (this.guesses.get(key) ?? this.requests.get(key) ?? []).filter((t) => t > since);
  }
}

/** Keys kept per map before the least recently counted are dropped. */
const MAX_KEYS = 100_000;
