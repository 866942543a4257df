import { describe, expect, it } from 'vitest';
import type { AppError } from '../../lib/errors.js';
import { fixedClock } from '../../lib/clock.js';
import { networkOf } from '../../lib/net/client-address.js';
import { LoginThrottle } from './login-throttle.js';

/** SECURITY A8 beyond one email from one address: spread-out attacks on one person, and one client trying many people. */
const limits = { perPair: 10, perAccount: 100, perAddress: 50, perAddressTokens: 20, windowMs: 15 * 60_000 };

function refusal(fn: () => void): AppError | null {
  try {
    fn();
    return null;
  } catch (error) {
    return error as AppError;
  }
}

describe('the login throttle', () => {
  it('stops one address trying many people, whatever emails it uses', () => {
    const throttle = new LoginThrottle(fixedClock('2026-12-01T10:00:00Z'), limits);
    for (let i = 0; i < 50; i++) {
      expect(refusal(() => throttle.check(`person${i}@example.test`, '203.0.113.9'))).toBeNull();
      throttle.fail(`person${i}@example.test`, '203.0.113.9');
    }
    const refused = refusal(() => throttle.check('someone.new@example.test', '203.0.113.9'));
    expect(refused).toMatchObject({ code: 'auth.too_many_attempts', status: 429 });
    // Another address is not held up by it.
    expect(refusal(() => throttle.check('someone.new@example.test', '198.51.100.1'))).toBeNull();
  });

  it('under a spread-out attack, refuses every address and network that already failed on the account, but lets a new one try once (issue #8 L1)', () => {
    const throttle = new LoginThrottle(fixedClock('2026-12-01T10:00:00Z'), limits);
    let started = 0;
    for (let i = 0; i < 100; i++) if (throttle.fail('ceo@example.test', `10.9.${Math.floor(i / 5)}.${i % 5}`)) started++;
    expect(started).toBe(1); // the owner is alerted once, when the attack begins
    // The alert can say how spread out the attack is: 100 addresses in 20 networks.
    expect(throttle.sourcesOf('CEO@example.test')).toEqual({ addresses: 100, networks: 20 });
    // An address that failed, and a neighbour in its /24, are refused even with the right password.
    expect(refusal(() => throttle.check('ceo@example.test', '10.9.3.1'))).toMatchObject({ code: 'auth.too_many_attempts' });
    expect(refusal(() => throttle.check('ceo@example.test', '10.9.3.200'))).toMatchObject({ code: 'auth.too_many_attempts' });
    // The owner, from a network that never failed, may try: the account is not locked.
    expect(refusal(() => throttle.check('ceo@example.test', '192.0.2.77'))).toBeNull();
    // One wrong guess from there and it is refused too: one guess per network, not ten.
    throttle.fail('ceo@example.test', '192.0.2.77');
    expect(refusal(() => throttle.check('ceo@example.test', '192.0.2.77'))).toMatchObject({ code: 'auth.too_many_attempts' });
    expect(refusal(() => throttle.check('other@example.test', '192.0.2.77'))).toBeNull();
  });

  it('groups IPv6 addresses by /64 and IPv4-mapped ones by /24', () => {
    expect(networkOf('2001:db8:1:2:aaaa::1')).toBe(networkOf('2001:db8:1:2::ffff'));
    expect(networkOf('2001:db8:1:2::1')).not.toBe(networkOf('2001:db8:1:3::1'));
    expect(networkOf('::ffff:203.0.113.9')).toBe(networkOf('203.0.113.250'));
  });

  it('limits invalid tokens per address', () => {
    const throttle = new LoginThrottle(fixedClock('2026-12-01T10:00:00Z'), limits);
    for (let i = 0; i < 20; i++) throttle.failToken('198.51.100.7');
    expect(refusal(() => throttle.checkToken('198.51.100.7'))).toMatchObject({ code: 'auth.too_many_attempts', status: 429 });
    expect(refusal(() => throttle.checkToken('198.51.100.8'))).toBeNull();
  });

  it('says when to come back, and forgets failures once the window has passed', () => {
    const clock = fixedClock('2026-12-01T10:00:00Z');
    const throttle = new LoginThrottle(clock, limits);
    for (let i = 0; i < 10; i++) throttle.fail('a@example.test', '192.0.2.1');
    clock.advance(5 * 60_000);
    const refused = refusal(() => throttle.check('a@example.test', '192.0.2.1'));
    expect(refused?.headers?.['retry-after']).toBe(String(10 * 60));
    clock.advance(10 * 60_000 + 1);
    expect(refusal(() => throttle.check('a@example.test', '192.0.2.1'))).toBeNull();
  });

  it('clears the per-pair count on success, so a person who finally remembers is not locked out later', () => {
    const throttle = new LoginThrottle(fixedClock('2026-12-01T10:00:00Z'), limits);
    for (let i = 0; i < 9; i++) throttle.fail('b@example.test', '192.0.2.2');
    throttle.succeed('b@example.test', '192.0.2.2');
    throttle.fail('b@example.test', '192.0.2.2');
    expect(refusal(() => throttle.check('b@example.test', '192.0.2.2'))).toBeNull();
  });

  it('counts IPv6 clients by /64, so rotating addresses inside one subscriber block gains nothing', () => {
    const throttle = new LoginThrottle(fixedClock('2026-12-01T10:00:00Z'), limits);
    for (let i = 0; i < 50; i++) throttle.fail(`person${i}@example.test`, `2001:db8:1:2::${(i + 1).toString(16)}`);
    expect(refusal(() => throttle.check('someone@example.test', '2001:db8:1:2:ffff::9'))).toMatchObject({ code: 'auth.too_many_attempts' });
    expect(refusal(() => throttle.check('someone@example.test', '2001:db8:1:3::1'))).toBeNull();
  });

  it('keeps an attack on an account in memory through a flood of cheap reset and token requests', () => {
    const throttle = new LoginThrottle(fixedClock('2026-12-01T10:00:00Z'), { ...limits, resetsPerEmail: 1_000_000, resetsPerAddress: 1_000_000 });
    for (let i = 0; i < 100; i++) throttle.fail('ceo@example.test', `10.9.${Math.floor(i / 5)}.${i % 5}`);
    // 120,000 reset requests for random emails from rotating IPv6 blocks: more keys than the throttle keeps.
    for (let i = 0; i < 60_000; i++) {
      throttle.requestReset(`r${i}@example.test`, `2001:db8:${(i % 65_000).toString(16)}::1`);
      throttle.failToken(`2001:db9:${(i % 65_000).toString(16)}::1`);
    }
    expect(refusal(() => throttle.check('ceo@example.test', '10.9.3.1'))).toMatchObject({ code: 'auth.too_many_attempts' });
  });
});
