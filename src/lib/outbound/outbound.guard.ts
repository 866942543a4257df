import { promises as dns } from 'node:dns';
import ipaddr from 'ipaddr.js';
import { outboundErrors } from './outbound.errors.js';

/**
 * The one guard every outbound connection goes through: mail servers (SMTP, IMAP) today, webhooks
 * and avatars later (SECURITY M4, W4). Two checks:
 *
 * - at settings time, `checkHost` refuses a host written as a forbidden address, in every notation
 *   Node or libc accepts (`2130706433`, `0177.0.0.1`, `0x7f000001`, `127.1`, `[::ffff:7f00:1]`,
 *   `localhost.`), so the mistake is shown to the admin at once;
 * - at connect time, `pin` resolves the name, checks EVERY address it resolves to, and returns one
 *   checked IP. The caller connects to that IP (TLS servername = the original name, so certificates
 *   are still verified against the name): a DNS answer that changes between check and connect
 *   (rebinding) is never used.
 *
 * Refused: loopback, private, carrier-grade NAT, link-local (cloud metadata at 169.254.169.254),
 * unique-local, multicast, broadcast, unspecified and reserved ranges, and IPv6 forms that embed a
 * refused IPv4 (mapped, compatible, NAT64, 6to4, Teredo). Operators who run their own relay on a
 * private network list it in OUTBOUND_ALLOWED_NETWORKS.
 */
export type HostLookup = (hostname: string) => Promise<{ address: string; family: number }[]>;

/** The system resolver (getaddrinfo), every address it returns. */
export const systemLookup: HostLookup = (hostname) => dns.lookup(hostname, { all: true, verbatim: true });

export interface PinnedHost {
  /** The host as configured. */
  host: string;
  /** The checked IP to connect to. */
  address: string;
  family: 4 | 6;
  /** The name for TLS (SNI and certificate check); undefined when the host was an IP literal. */
  servername: string | undefined;
}

export interface OutboundGuard {
  /** Settings time: throws a coded 422 (naming `field`) for an invalid host or a forbidden literal address. */
  checkHost(host: string, field?: string): void;
  /** Connect time: resolves, checks every address, returns the pinned one (or throws a coded error). */
  pin(host: string): Promise<PinnedHost>;
}

type Address = ipaddr.IPv4 | ipaddr.IPv6;

/** RFC 1123 host names (underscores tolerated, as resolvers do); at most 253 characters. */
const HOST_NAME = /^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*$/;

/** Trims, drops IPv6 brackets and trailing dots, lower-cases: "[::1]" -> "::1", "LOCALHOST." -> "localhost". */
function normalize(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  return h.replace(/\.+$/, '');
}

/** Any IP literal ipaddr.js reads, which covers the inet_aton forms (decimal, octal, hex, short). */
function literal(host: string): Address | null {
  return ipaddr.isValid(host) ? ipaddr.parse(host) : null;
}

/** RFC 6761 §6.3: every name under localhost. is loopback, whatever a DNS server says. */
function isLocalhostName(host: string): boolean {
  return host === 'localhost' || host.endsWith('.localhost');
}

function v4(high: number, low: number): ipaddr.IPv4 {
  return new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
}

/** The IPv4 addresses an IPv6 address carries, by the transition mechanisms that route to them. */
function embeddedV4(a: ipaddr.IPv6): ipaddr.IPv4[] | 'refuse' {
  const p = a.parts;
  switch (a.range()) {
    case 'ipv4Mapped': // ::ffff:a.b.c.d
    case 'rfc6145': // ::ffff:0:a.b.c.d (SIIT)
      return [v4(p[6], p[7])];
    case 'rfc6052': // NAT64: 64:ff9b::a.b.c.d (RFC 6052); the local-use 64:ff9b:1::/48 is a private network
      return p[0] === 0x64 && p[1] === 0xff9b && p.slice(2, 6).every((x) => x === 0) ? [v4(p[6], p[7])] : 'refuse';
    case '6to4': // 2002:AABB:CCDD::
      return [v4(p[1], p[2])];
    case 'teredo': // 2001:0:SERVER:...:~CLIENT
      return [v4(p[2], p[3]), v4(p[6] ^ 0xffff, p[7] ^ 0xffff)];
    default:
      // Deprecated IPv4-compatible ::a.b.c.d (RFC 4291 §2.5.5.1); "::" and "::1" are caught by range().
      return p.slice(0, 6).every((x) => x === 0) ? [v4(p[6], p[7])] : [];
  }
}

/** Why an address is refused, or null when Rapport may connect to it. */
export function refusal(a: Address): string | null {
  if (a.kind() === 'ipv4') return a.range() === 'unicast' ? null : (a.range() as string);
  const v6 = a as ipaddr.IPv6;
  const embedded = embeddedV4(v6);
  if (embedded === 'refuse') return v6.range();
  if (embedded.length > 0) {
    const bad = embedded.find((e) => e.range() !== 'unicast');
    return bad ? `${v6.range()} embedding ${bad.range()} ${bad.toString()}` : null;
  }
  return v6.range() === 'unicast' ? null : v6.range();
}

export function createOutboundGuard(opts: { allowedNetworks?: string[]; lookup?: HostLookup; lookupTimeoutMs?: number } = {}): OutboundGuard {
  const allowed = (opts.allowedNetworks ?? []).map((n) => ipaddr.parseCIDR(n));
  const lookup = opts.lookup ?? systemLookup;
  // getaddrinfo has no deadline of its own: a name server that never answers must not hold a send job.
  const lookupTimeoutMs = opts.lookupTimeoutMs ?? 10_000;

  const isAllowed = (a: Address): boolean => {
    const forms: Address[] = [a];
    if (a.kind() === 'ipv6' && (a as ipaddr.IPv6).isIPv4MappedAddress()) forms.push((a as ipaddr.IPv6).toIPv4Address());
    return forms.some((f) => allowed.some(([net, bits]) => net.kind() === f.kind() && f.match(net, bits)));
  };

  /** Throws when the address is refused and no allowed network covers it. */
  const check = (host: string, a: Address, field = 'host') => {
    const why = refusal(a);
    if (!why || isAllowed(a)) return;
    throw outboundErrors.forbiddenAddress(
      `${field} (${host}) is a ${why} address (${a.toString()}). Rapport connects only to public addresses, unless the operator lists the network in OUTBOUND_ALLOWED_NETWORKS.`,
      { errors: [{ path: field, message: `is a ${why} address` }] },
    );
  };

  const parseHost = (host: string, field = 'host'): { name: string; literal: Address | null } => {
    const name = normalize(host);
    const lit = literal(name);
    if (!lit && !HOST_NAME.test(name)) {
      throw outboundErrors.invalidHost(`${field} (${JSON.stringify(host)}) is not a host name or an IP address.`, { errors: [{ path: field, message: 'is not a host name or an IP address' }] });
    }
    return { name, literal: lit };
  };

  return {
    checkHost(host, field) {
      const { name, literal: lit } = parseHost(host, field);
      if (lit) check(host, lit, field);
      else if (isLocalhostName(name)) check(host, ipaddr.parse('127.0.0.1'), field);
    },

    async pin(host) {
      const { name, literal: lit } = parseHost(host);
      let addresses: Address[];
      if (lit) addresses = [lit];
      else if (isLocalhostName(name)) addresses = [ipaddr.parse('127.0.0.1')];
      else {
        let timer: NodeJS.Timeout | undefined;
        const deadline = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(Object.assign(new Error('timed out'), { code: 'ETIMEOUT' })), lookupTimeoutMs);
        });
        const found = await Promise.race([lookup(name), deadline])
          .catch((error: NodeJS.ErrnoException) => {
            throw outboundErrors.unresolvable(`${name}: ${error.code ?? error.message}`);
          })
          .finally(() => clearTimeout(timer));
        addresses = found.flatMap((f) => (ipaddr.isValid(f.address) ? [ipaddr.parse(f.address)] : []));
        if (addresses.length === 0 || addresses.length !== found.length) throw outboundErrors.unresolvable(`${name}: no usable address`);
      }
      // Every address, not just the first: a name that answers [public, private] is refused whole,
      // so no retry or happy-eyeballs fallback inside a client library can reach the private one.
      for (const a of addresses) check(host, a);
      const chosen = addresses[0];
      const plain = chosen.kind() === 'ipv6' && (chosen as ipaddr.IPv6).isIPv4MappedAddress() ? (chosen as ipaddr.IPv6).toIPv4Address() : chosen;
      return {
        host,
        address: plain.toString(),
        family: plain.kind() === 'ipv4' ? 4 : 6,
        servername: lit ? undefined : name,
      };
    },
  };
}
