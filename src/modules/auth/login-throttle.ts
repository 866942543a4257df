import type { Clock } from '../../lib/clock.js';
import { authErrors } from './auth.errors.js';

/**
 * Slows password guessing (SECURITY A8). Within the window, sign-in answers 429 after `perPair`
 * failures for one email from one address, `perAccount` failures for one email from anywhere (a
 * spread-out attack on one person), or `perAddress` failures from one address (one client trying
 * many people). The per-pair limit is the low one, so an attacker elsewhere cannot lock the real
 * person out with a handful of wrong passwords. The answer is the same whether the account exists.
 * Kept per instance: behind a load balancer the limits are per instance.
 */
export class LoginThrottle {
  private failures = new Map<string, number[]>();

  constructor(
    private readonly clock: Clock,
    private readonly opts = { perPair: 10, perAccount: 100, perAddress: 50, windowMs: 15 * 60_000 },
  ) {}

  check(email: string, ip: string): void {
    for (const [key, limit] of this.keys(email, ip)) {
      const recent = this.recent(key);
      if (recent.length >= limit) {
        const retryAfter = Math.ceil((recent[0] + this.opts.windowMs - this.clock.now().getTime()) / 1000);
        throw authErrors.tooManyAttempts(undefined, { headers: { 'retry-after': String(Math.max(1, retryAfter)) } });
      }
    }
  }

  fail(email: string, ip: string): void {
    const now = this.clock.now().getTime();
    for (const [key] of this.keys(email, ip)) this.failures.set(key, [...this.recent(key), now]);
    if (this.failures.size > 100_000) this.failures.clear();
  }

  succeed(email: string, ip: string): void {
    this.failures.delete(`p:${email.toLowerCase()}|${ip}`);
  }

  private keys(email: string, ip: string): [string, number][] {
    const e = email.toLowerCase();
    return [[`p:${e}|${ip}`, this.opts.perPair], [`e:${e}`, this.opts.perAccount], [`i:${ip}`, this.opts.perAddress]];
  }

  private recent(key: string): number[] {
    const since = this.clock.now().getTime() - this.opts.windowMs;
    return (this.failures.get(key) ?? []).filter((t) => t > since);
  }
}
