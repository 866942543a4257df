import type { Clock } from '../../lib/clock.js';
import { conversationErrors } from './conversations.errors.js';

/**
 * Paces searches per principal (a user, or an API token): a token bucket of `burst` searches that
 * refills at `perMinute`. A search is bounded work, but eight of them at once from one client were
 * enough to slow another workspace (issue #8, M7); past the bucket, 429 with Retry-After.
 * Kept per instance: behind a load balancer the limit is per instance.
 */
export class SearchLimiter {
  private buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly clock: Clock,
    private readonly opts: { perMinute: number; burst: number },
  ) {}

  /**
   * Takes `cost` searches from the principal's bucket (1 for a new search, less for the next page of
   * one), or throws search.rate_limited.
   */
  take(principal: string, cost = 1): void {
    const now = this.clock.now().getTime();
    const perMs = this.opts.perMinute / 60_000;
    const bucket = this.buckets.get(principal) ?? { tokens: this.opts.burst, at: now };
    bucket.tokens = Math.min(this.opts.burst, bucket.tokens + Math.max(0, now - bucket.at) * perMs);
    bucket.at = now;
    if (bucket.tokens < cost) {
      this.buckets.set(principal, bucket);
      const seconds = Math.max(1, Math.ceil((cost - bucket.tokens) / perMs / 1000));
      throw conversationErrors.searchRateLimited(`Too many searches in a short time: try again in ${seconds} s.`, {
        headers: { 'retry-after': String(seconds) },
      });
    }
    bucket.tokens -= cost;
    this.buckets.set(principal, bucket);
    if (this.buckets.size > 100_000) this.forgetFull(now, perMs);
  }

  /** Drops buckets that have refilled: they hold nothing a new bucket would not. */
  private forgetFull(now: number, perMs: number): void {
    for (const [key, b] of this.buckets) if (b.tokens + (now - b.at) * perMs >= this.opts.burst) this.buckets.delete(key);
  }
}
