import { describe, expect, it } from 'vitest';
import { AppError } from '../errors.js';
import { createOutboundGuard, type HostLookup } from './outbound.guard.js';
import { parseNetworks } from './outbound.settings.js';
import { fakeLookup, forbiddenLiterals } from './outbound.testing.js';

function codeOf(run: () => unknown): string | null {
  try {
    run();
    return null;
  } catch (error) {
    return error instanceof AppError ? error.code : `uncoded: ${(error as Error).message}`;
  }
}

async function asyncCodeOf(run: () => Promise<unknown>): Promise<string | null> {
  try {
    await run();
    return null;
  } catch (error) {
    return error instanceof AppError ? error.code : `uncoded: ${(error as Error).message}`;
  }
}

const publicHosts = ['8.8.8.8', '93.184.216.34', '2001:4860:4860::8888', '::ffff:8.8.8.8', '2002:808:808::1', 'smtp.example.com', 'mail.example.com.'];

describe('the outbound guard at settings time', () => {
  const guard = createOutboundGuard();

  it.each(forbiddenLiterals)('refuses %s', (host) => {
    expect(codeOf(() => guard.checkHost(host))).toBe('outbound.forbidden_address');
  });

  it.each(publicHosts)('accepts %s (names are checked when connecting)', (host) => {
    expect(codeOf(() => guard.checkHost(host))).toBeNull();
  });

  it.each(['127.0.0.1 x', 'mail.example.com/evil', 'a..b', '-mail.example.com', '', 'http://127.0.0.1', '127.0.0.1:25', 'exa mple.com', 'ex\u00e4mple.com'])(
    'refuses %j as not a host at all',
    (host) => {
      expect(codeOf(() => guard.checkHost(host))).toBe('outbound.invalid_host');
    },
  );
});

describe('the outbound guard at connect time', () => {
  it.each(forbiddenLiterals)('refuses to pin %s without asking DNS', async (host) => {
    const lookup = fakeLookup({});
    const guard = createOutboundGuard({ lookup });
    expect(await asyncCodeOf(() => guard.pin(host))).toBe('outbound.forbidden_address');
    expect(lookup.calls).toEqual([]);
  });

  it.each([
    ['a name resolving to 10.x', ['10.0.0.7']],
    ['a name resolving to the metadata address', ['169.254.169.254']],
    ['a name resolving to loopback over IPv6', ['::1']],
    ['a name resolving to an IPv4-mapped loopback', ['::ffff:127.0.0.1']],
    ['a name resolving to a public and a private address', ['93.184.216.34', '192.168.0.10']],
    ['a name resolving to a private and a public address', ['192.168.0.10', '93.184.216.34']],
  ])('refuses %s', async (_label, addresses) => {
    const guard = createOutboundGuard({ lookup: fakeLookup({ 'mail.attacker.test': addresses }) });
    expect(await asyncCodeOf(() => guard.pin('mail.attacker.test'))).toBe('outbound.forbidden_address');
  });

  it('pins the checked address and keeps the name for TLS, so rebinding after the check is never used', async () => {
    let answers = 0;
    // Public on the first question, private afterwards: the classic rebinding answer.
    const rebinding: HostLookup = async () => [{ address: answers++ === 0 ? '93.184.216.34' : '10.0.0.7', family: 4 }];
    const guard = createOutboundGuard({ lookup: rebinding });
    const pinned = await guard.pin('Rebind.Attacker.test.');
    expect(pinned).toEqual({ host: 'Rebind.Attacker.test.', address: '93.184.216.34', family: 4, servername: 'rebind.attacker.test' });
    // The next connection asks again and is refused, rather than reusing a name that now points inside.
    expect(await asyncCodeOf(() => guard.pin('rebind.attacker.test'))).toBe('outbound.forbidden_address');
    expect(answers).toBe(2);
  });

  it('connects to an IP literal as itself, in canonical form, with no TLS servername', async () => {
    const guard = createOutboundGuard({ lookup: fakeLookup({}) });
    expect(await guard.pin('[2001:4860:4860::8888]')).toEqual({ host: '[2001:4860:4860::8888]', address: '2001:4860:4860::8888', family: 6, servername: undefined });
    expect(await guard.pin('::ffff:8.8.8.8')).toMatchObject({ address: '8.8.8.8', family: 4 });
  });

  it('answers an unknown name with a coded error', async () => {
    const guard = createOutboundGuard({ lookup: fakeLookup({}) });
    expect(await asyncCodeOf(() => guard.pin('nowhere.test'))).toBe('outbound.unresolvable');
  });

  it('gives up on a name server that never answers', async () => {
    const guard = createOutboundGuard({ lookup: () => new Promise(() => {}), lookupTimeoutMs: 50 });
    expect(await asyncCodeOf(() => guard.pin('silent.test'))).toBe('outbound.unresolvable');
  });
});

describe('OUTBOUND_ALLOWED_NETWORKS', () => {
  it('lets a listed private network through, in every notation, and nothing beside it', async () => {
    const guard = createOutboundGuard({ allowedNetworks: parseNetworks('10.20.0.0/16, 127.0.0.0/8'), lookup: fakeLookup({ 'relay.corp.test': ['10.20.1.5'], 'other.corp.test': ['10.21.0.1'] }) });
    expect(codeOf(() => guard.checkHost('10.20.1.5'))).toBeNull();
    expect(codeOf(() => guard.checkHost('0x7f000001'))).toBeNull();
    expect(codeOf(() => guard.checkHost('[::ffff:127.0.0.1]'))).toBeNull();
    expect(codeOf(() => guard.checkHost('localhost'))).toBeNull();
    expect(await guard.pin('relay.corp.test')).toMatchObject({ address: '10.20.1.5', servername: 'relay.corp.test' });
    expect(codeOf(() => guard.checkHost('10.21.0.1'))).toBe('outbound.forbidden_address');
    expect(codeOf(() => guard.checkHost('169.254.169.254'))).toBe('outbound.forbidden_address');
    expect(await asyncCodeOf(() => guard.pin('other.corp.test'))).toBe('outbound.forbidden_address');
  });

  it('reads CIDRs and bare addresses, and refuses anything else at start', () => {
    expect(parseNetworks('10.0.0.0/8 fd00::/8,192.168.1.5')).toEqual(['10.0.0.0/8', 'fd00::/8', '192.168.1.5/32']);
    expect(() => parseNetworks('10.0.0.0/33')).toThrow(/CIDR/);
    expect(() => parseNetworks('relay.corp')).toThrow(/CIDR/);
  });
});
