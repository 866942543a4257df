import type { DnsResolver } from './dns.js';

/**
 * Recorded DNS for tests (the machines that run them have no DNS): a zone of
 * `{ name: { TXT: [['v=spf1 ...']], ... } }`. A name that is absent answers ENOTFOUND, a present
 * name without the asked type ENODATA, exactly as `dns.promises.resolve` does. Names are matched
 * case-insensitively. `fallback` answers the names the zone does not hold.
 */
export function fakeDns(zone: Record<string, Record<string, unknown[]>>, opts: { fallback?: DnsResolver; delayMs?: number } = {}): DnsResolver & { queries: string[] } {
  const lower = new Map(Object.entries(zone).map(([name, records]) => [name.toLowerCase().replace(/\.$/, ''), records]));
  const queries: string[] = [];
  const resolve = async (name: string, rrtype: string): Promise<unknown[]> => {
    queries.push(`${rrtype} ${name}`);
    if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
    const records = lower.get(name.toLowerCase().replace(/\.$/, ''));
    if (!records) {
      if (opts.fallback) return opts.fallback(name, rrtype);
      throw Object.assign(new Error(`queryTxt ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
    }
    const answer = records[rrtype.toUpperCase()];
    if (!answer?.length) throw Object.assign(new Error(`query ENODATA ${name}`), { code: 'ENODATA' });
    return answer;
  };
  return Object.assign(resolve, { queries });
}

/**
 * The test network's DNS: every domain lists the loopback addresses as its mail servers (SPF) and
 * publishes a monitoring DMARC policy, so mail the tests send through 127.0.0.1 in a domain's own
 * name is verified, as a customer's real mail would be. Tests of forged mail use their own zone.
 */
export const localMailDns: DnsResolver = async (name, rrtype) => {
  const type = rrtype.toUpperCase();
  if (type === 'TXT' && /^_dmarc\./i.test(name)) return [['v=DMARC1; p=none']];
  if (type === 'TXT' && !/\._domainkey\./i.test(name) && !name.startsWith('_')) return [['v=spf1 ip4:127.0.0.0/8 ip6:::1 -all']];
  throw Object.assign(new Error(`query ENODATA ${name}`), { code: 'ENODATA' });
};
