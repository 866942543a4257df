import ipaddr from 'ipaddr.js';
import type { SettingSpec } from '../settings.js';

/** Parses "10.20.0.0/16, fd00:1::/64, 192.168.1.5" into normalized CIDRs; a bare address is a /32 or /128. */
export function parseNetworks(raw: string): string[] {
  return raw
    .split(/[\s,]+/)
    .filter(Boolean)
    .map((entry) => {
      try {
        const [address, bits] = entry.includes('/') ? ipaddr.parseCIDR(entry) : [ipaddr.parse(entry), entry.includes(':') ? 128 : 32];
        return `${address.toString()}/${bits}`;
      } catch {
        throw new Error(`"${entry}" is not a network in CIDR notation (like 10.20.0.0/16)`);
      }
    });
}

/** The outbound guard's settings; config.ts collects them. */
export const outboundSettings = {
  outboundAllowedNetworks: {
    env: 'OUTBOUND_ALLOWED_NETWORKS',
    description: 'private networks Rapport may connect to for mail servers and other outbound connections (comma-separated CIDRs, e.g. your own relay at 10.0.5.0/24); empty: public addresses only',
    default: [] as string[],
    parse: parseNetworks,
  },
} satisfies Record<string, SettingSpec<unknown>>;
