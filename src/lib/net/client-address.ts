import ipaddr from 'ipaddr.js';

/**
 * How a client's address is counted by the per-address limits and throttles (connections, sockets,
 * SMTP sessions, password guesses): an IPv4 address as is (also when written IPv4-mapped), an IPv6
 * address by its /64, because one subscriber usually holds a whole /64 and could rotate through it.
 */
export function clientKey(address: string | undefined): string {
  const parsed = parse(address);
  if (!parsed) return address || 'unknown';
  return parsed.kind() === 'ipv4' ? parsed.toString() : prefix64(parsed as ipaddr.IPv6);
}

/** The wider network an address belongs to (a spread-out attack): its /24 (IPv4) or /64 (IPv6). */
export function networkOf(address: string): string {
  const parsed = parse(address);
  if (!parsed) return address;
  if (parsed.kind() === 'ipv6') return prefix64(parsed as ipaddr.IPv6);
  const [a, b, c] = (parsed as ipaddr.IPv4).octets;
  return `${a}.${b}.${c}.0/24`;
}

function parse(address: string | undefined): ipaddr.IPv4 | ipaddr.IPv6 | null {
  if (!address) return null;
  try {
    const parsed = ipaddr.parse(address.split('%')[0]!);
    return parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress() ? (parsed as ipaddr.IPv6).toIPv4Address() : parsed;
  } catch {
    return null;
  }
}

function prefix64(address: ipaddr.IPv6): string {
  return `${address.parts
    .slice(0, 4)
    .map((part) => part.toString(16))
    .join(':')}::/64`;
}
