import type { HostLookup } from './outbound.guard.js';

/** A resolver that answers from a table (DNS itself is unreachable in tests). */
export function fakeLookup(table: Record<string, string[]>): HostLookup & { calls: string[] } {
  const calls: string[] = [];
  const fn = async (name: string) => {
    calls.push(name);
    const list = table[name];
    if (!list) throw Object.assign(new Error(`queryA ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
    return list.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return Object.assign(fn, { calls });
}

/** Every notation of a refused address that Node, libc's inet_aton or a URL parser accepts. */
export const forbiddenLiterals = [
  // loopback, in every IPv4 notation
  '127.0.0.1',
  '2130706433',
  '0177.0.0.1',
  '0x7f000001',
  '0x7f.0.0.1',
  '017700000001',
  '127.1',
  '127.0.1',
  '127.255.255.254',
  '127.000.000.001',
  '0177.1',
  '0X7F000001',
  '0x7F.0x0.0x0.0x1',
  ' 127.0.0.1 ',
  // cloud metadata and link-local
  '169.254.169.254',
  '0xa9fea9fe',
  '2852039166',
  '169.254.0.1',
  // private, carrier-grade NAT, special-purpose, benchmarking, multicast, reserved, broadcast, "this network"
  '10.0.0.5',
  '10.1',
  '172.16.0.1',
  '172.31.255.255',
  '192.168.1.1',
  '100.64.0.1',
  '192.0.0.8',
  '198.18.0.1',
  '198.19.255.255',
  '224.0.0.1',
  '239.1.2.3',
  '240.0.0.1',
  '255.255.255.255',
  '0.0.0.0',
  '0',
  '0.1.2.3',
  // IPv6: unspecified, loopback, unique-local, link-local, multicast
  '::',
  '::1',
  '[::1]',
  '0:0:0:0:0:0:0:1',
  'fc00::1',
  'fd12:3456::1',
  'fe80::1',
  'fe80::1%eth0',
  'ff02::1',
  // IPv6 embedding a refused IPv4: mapped, compatible, SIIT, NAT64, 6to4, Teredo (client 127.0.0.1 = ~0x80ff:fffe)
  '::ffff:127.0.0.1',
  '[::ffff:127.0.0.1]',
  '::ffff:7f00:1',
  '[::ffff:7f00:1]',
  '::ffff:169.254.169.254',
  '::127.0.0.1',
  '::a00:1',
  '::ffff:0:7f00:1',
  '64:ff9b::7f00:1',
  '64:ff9b::a9fe:a9fe',
  '64:ff9b:1::a00:1',
  '2002:7f00:1::',
  '2002:a9fe:a9fe::1',
  '2001:0:4136:e378:8000:63bf:80ff:fffe',
  // names that are loopback by definition (RFC 6761), with and without the trailing dot
  'localhost',
  'LOCALHOST',
  'localhost.',
  'mail.localhost',
  'mail.localhost.',
  // trailing dots on literals
  '127.0.0.1.',
  '10.0.0.1.',
];
