import type { Clock } from '../../lib/clock.js';
import { authErrors } from './auth.errors.js';

/**
 * Slows password guessing (SECURITY A8): after `perAccount` failures for one email, or `perAddress`
 * failures from one client address, within the window, sign-in answers 429 until the window passes.
 * The answer is the same whether the account exists. Kept per instance: behind a load balancer the
 * limit is per instance, which still bounds a guesser to a handful of tries per minute.
 */
export class LoginThrottle {
  private failures = new Map<string, number[]>();

  constructor(
    private readonly clock: Clock,
    private readonly opts = { perAccount: 10, perAddress: 50, windowMs: 15 * 60_000 },
  ) {}

  check(email: string, ip: string): void {
    for (const [key, limit] of [[`e:${email.toLowerCase()}`, this.opts.perAccount], [`i:${ip}`, this.opts.perAddress]] as const) {
      const recent = this.recent(key);
      if (recent.length >= limit) {
        const retryAfter = Math.ceil((recent[0] + this.opts.windowMs - this.clock.now().getTime()) / 1000);
        throw authErrors.tooManyAttempts(undefined, { headers: { 'retry-after': String(Math.max(1, retryAfter)) } });
      }
    }
  }

  fail(email: string, ip: string): void {
    const now = this.clock.now().getTime();
    for (const key of [`e:${email.toLowerCase()}`, `i:${ip}`]) this.failures.set(key, [...this.recent(key), now]);
    if (this.failures.size > 100_000) this.failures.clear();
  }

  succeed(email: string): void {
    this.failures.delete(`e:${email.toLowerCase()}`);
  }

  private recent(key: string): number[] {
    const since = this.clock.now().getTime() - this.opts.windowMs;
    return (this.failures.get(key) ?? []).filter((t) => t > since);
  }
}
