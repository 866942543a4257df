import { promises as dns } from 'node:dns';

/**
 * DNS as an injected dependency, like the clock: `(name, rrtype)` answers the way
 * `dns.promises.resolve` does (TXT records as arrays of strings, MX as objects; a missing name
 * rejects with code ENOTFOUND, a name without that record with ENODATA). The server resolves through
 * the system's DNS servers; tests pass a recorded zone (`dns.testing.ts`) and run offline.
 */
export type DnsResolver = (name: string, rrtype: string) => Promise<unknown[]>;

/**
 * The system resolver, bounded in time: each query gives up after `timeoutMs` with code ETIMEOUT
 * (what mail authentication reads as a temporary error), so a sender's slow or silent name server
 * cannot hold an SMTP session open.
 */
export function systemDns(opts: { timeoutMs?: number } = {}): DnsResolver {
  const timeoutMs = opts.timeoutMs ?? 5_000;
  // c-ares retries on its own: two tries each bounded by half the budget.
  const resolver = new dns.Resolver({ timeout: Math.max(100, Math.floor(timeoutMs / 2)), tries: 2 });
  return withTimeout((name, rrtype) => resolver.resolve(name, rrtype) as Promise<unknown[]>, timeoutMs);
}

/** Wraps any resolver so that each answer arrives within `timeoutMs` or rejects with ETIMEOUT. */
export function withTimeout(resolve: DnsResolver, timeoutMs: number): DnsResolver {
  return (name, rrtype) =>
    new Promise((ok, fail) => {
      const timer = setTimeout(() => fail(Object.assign(new Error(`DNS query for ${name} (${rrtype}) timed out`), { code: 'ETIMEOUT' })), timeoutMs);
      resolve(name, rrtype).then(
        (answer) => {
          clearTimeout(timer);
          ok(answer);
        },
        (error) => {
          clearTimeout(timer);
          fail(error);
        },
      );
    });
}
