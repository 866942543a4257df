import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../lib/clock.js';
import { client, eventually, startTestServer, startWithMailRelay, type TestServer, type TestWorkspace } from '../../../test/helpers.js';

const clock = fixedClock('2026-04-01T08:00:00Z');
let rapport: TestServer;
let ws: TestWorkspace;
let sink: Awaited<ReturnType<typeof startWithMailRelay>>['sink'];
let stop: () => Promise<void>;

beforeAll(async () => {
  ({ rapport, ws, sink, stop } = await startWithMailRelay({ clock }));
});
afterAll(async () => stop?.());

let n = 0;
const address = (name = 'person') => `${name}-${++n}@example.test`;
const ask = (email: string, ip = '10.9.0.1') => rapport.app.inject({ method: 'POST', url: '/api/v1/auth/password-resets', payload: { email }, remoteAddress: ip });
const reset = (token: string, password: string, ip = '10.9.1.1') => rapport.app.inject({ method: 'POST', url: '/api/v1/auth/password-resets/accept', payload: { token, password }, remoteAddress: ip });
const login = (email: string, password: string) => rapport.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email, password }, remoteAddress: `10.8.${n % 250}.${n % 200}` });
/** Password reset mails to `email` (invitation mails to it are left out). */
const mailsTo = (email: string) => sink.received.filter((m) => m.to.includes(email) && /^Subject: Choose a new password/m.test(m.raw));

/** The token of the newest reset link mailed to `email` (quoted-printable undone). */
async function mailedToken(email: string, count = 1): Promise<string> {
  const mails = await eventually(async () => mailsTo(email).length >= count && mailsTo(email));
  const raw = mails[mails.length - 1].raw.replace(/=\r?\n/g, '').replace(/=3D/g, '=');
  const match = /\/reset-password#token=([A-Za-z0-9_-]+)/.exec(raw);
  expect(match, raw).not.toBeNull();
  return match![1];
}

/** An account made through an invitation accepted with `password`, as an admin of the test workspace. */
async function invitedAccount(email: string, password: string) {
  const admin = client(rapport, ws.token, ws.workspaceId);
  expect((await admin.post('/invitations', { email, role: 'admin' })).json().delivery).toBe('emailed');
  // With the relay set, the invitation link is mailed to the address, never answered to the admin.
  const mail = await eventually(async () => sink.received.find((m) => m.to.includes(email) && /^Subject: .* invited you to /m.test(m.raw)));
  const token = /accept-invitation#token=(rpi_[A-Za-z0-9_-]+)/.exec(mail.raw.replace(/=\r?\n/g, '').replace(/=3D/g, '='))![1];
  const accepted = await rapport.app.inject({ method: 'POST', url: '/api/v1/invitations/accept', payload: { token, name: 'Someone', password }, remoteAddress: '10.7.0.1' });
  expect(accepted.statusCode).toBe(200);
}

describe('asking for a password reset link', () => {
  it('tells the sign-in pages that this server sends email (its relay is set)', async () => {
    expect((await rapport.app.inject({ method: 'GET', url: '/api/v1/auth/capabilities' })).json()).toEqual({ canSendEmail: true });
  });

  it('mails a single-use link through the relay; it sets the password once', async () => {
    const email = address();
    await invitedAccount(email, 'first pass phrase of mine');
    const res = await ask(email.toUpperCase());
    expect(res.statusCode).toBe(202);
    const token = await mailedToken(email);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const mail = mailsTo(email)[0];
    expect(mail.raw).toMatch(/^Auto-Submitted: auto-generated/m);
    expect(mail.raw).toMatch(/^From: no-reply@rapport\.test/m);
    // Only the SHA-256 of the token is stored.
    const { rows } = await rapport.pool.query(
      `select set_config('app.system', 'on', true),
        (select count(*)::int from password_resets r where r.token_hash = sha256(convert_to($1, 'UTF8'))) as hashed,
        (select count(*)::int from password_resets r where r::text like '%' || $1 || '%') as plain`,
      [token],
    );
    expect(rows[0]).toMatchObject({ hashed: 1, plain: 0 });

    const done = await reset(token, 'brand new quiet harbour lamp');
    expect(done.statusCode).toBe(200);
    expect(done.json()).toEqual({ email });
    expect((await login(email, 'brand new quiet harbour lamp')).statusCode).toBe(200);
    expect((await login(email, 'first pass phrase of mine')).statusCode).toBe(401);

    const again = await reset(token, 'another fresh river stone');
    expect(again.statusCode).toBe(400);
    expect(again.json().code).toBe('auth.invalid_reset_link');
    expect((await login(email, 'brand new quiet harbour lamp')).statusCode).toBe(200);
  });

  it('answers a known and an unknown email with the same status and body, and mails only the known one', async () => {
    const known = address('known');
    await invitedAccount(known, 'pass phrase of the known one');
    const unknown = address('unknown');
    const a = await ask(known, '10.9.2.1');
    const b = await ask(unknown, '10.9.2.1');
    expect(a.statusCode).toBe(202);
    expect(b.statusCode).toBe(202);
    expect(a.body).toBe(b.body);
    expect(a.headers['content-type']).toBe(b.headers['content-type']);
    await mailedToken(known);
    expect(mailsTo(unknown)).toEqual([]);

    // The mail leaves after the answer, so the answer takes about the same time either way.
    const time = async (email: string) => {
      const start = performance.now();
      await ask(email, `10.9.3.${++n % 250}`);
      return performance.now() - start;
    };
    const median = (xs: number[]) => xs.sort((x, y) => x - y)[Math.floor(xs.length / 2)];
    const knownTimes: number[] = [];
    const unknownTimes: number[] = [];
    for (let i = 0; i < 3; i++) {
      const k = address('timed');
      await invitedAccount(k, 'pass phrase of the timed one');
      knownTimes.push(await time(k));
      unknownTimes.push(await time(address('nobody')));
    }
    console.log(`password reset request: known ${median(knownTimes).toFixed(1)} ms, unknown ${median(unknownTimes).toFixed(1)} ms (median of 3)`);
    expect(Math.abs(median(knownTimes) - median(unknownTimes))).toBeLessThan(50);
  }, 60_000);

  it('refuses an expired link, and a newer link replaces the older', async () => {
    const email = address();
    await invitedAccount(email, 'pass phrase before expiry');
    await ask(email, '10.9.4.1');
    const first = await mailedToken(email, 1);
    clock.advance(60 * 60 * 1000 + 1000);
    const late = await reset(first, 'too late for this river stone', '10.9.4.2');
    expect(late.statusCode).toBe(400);
    expect(late.json().code).toBe('auth.invalid_reset_link');

    await ask(email, '10.9.4.1');
    const second = await mailedToken(email, 2);
    await ask(email, '10.9.4.1');
    const third = await mailedToken(email, 3);
    const replaced = await reset(second, 'replaced link quiet lamp river', '10.9.4.2');
    expect(replaced.body).toBe(late.body);
    expect((await reset('not-a-token', 'whatever quiet lamp river', '10.9.4.2')).body).toBe(late.body);
    expect((await reset(third, 'the newest link works fine', '10.9.4.2')).statusCode).toBe(200);
  });

  it('applies the password policy after the token, and keeps the link for a better password', async () => {
    const email = address();
    await invitedAccount(email, 'pass phrase before policy');
    await ask(email, '10.9.5.1');
    const token = await mailedToken(email);
    const weak = await reset(token, 'password123', '10.9.5.2');
    expect(weak.statusCode).toBe(422);
    expect(weak.json().code).toBe('auth.weak_password');
    expect((await reset(token, 'a strong unusual kettle phrase', '10.9.5.2')).statusCode).toBe(200);
  });

  it('throttles per email and per client address with 429, for known and unknown emails alike', async () => {
    const email = address('flooded');
    for (let i = 0; i < 3; i++) expect((await ask(email, `10.9.6.${i}`)).statusCode).toBe(202);
    const fourth = await ask(email, '10.9.6.9');
    expect(fourth.statusCode).toBe(429);
    expect(fourth.json().code).toBe('auth.too_many_attempts');
    expect(Number(fourth.headers['retry-after'])).toBeGreaterThan(0);

    for (let i = 0; i < 10; i++) expect((await ask(address('spray'), '10.9.7.1')).statusCode).toBe(202);
    expect((await ask(address('spray'), '10.9.7.1')).statusCode).toBe(429);
    expect((await ask(address('spray'), '10.9.7.2')).statusCode).toBe(202);

    // Guessing tokens is throttled like guessing invitation links.
    let last = 0;
    for (let i = 0; i < 21; i++) last = (await reset(`guess${i}`.padEnd(43, 'x'), 'a strong unusual kettle phrase', '10.9.8.1')).statusCode;
    expect(last).toBe(429);
  });

  it('answers 400 for a malformed body, never a 500', async () => {
    const res = await rapport.app.inject({ method: 'POST', url: '/api/v1/auth/password-resets', payload: { email: 'not an email' }, remoteAddress: '10.9.9.1' });
    expect(res.statusCode).toBe(422);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  });
});

describe('the owner of an email takes back a squatted account (issue #8 H1)', () => {
  it("ends the squatter's password, sessions and API tokens, and tells the owner", async () => {
    // An admin invites victim@… and accepts the link themselves, with their own password.
    const victim = address('victim');
    await invitedAccount(victim, 'squatter knows this phrase');
    const squatter = await login(victim, 'squatter knows this phrase');
    expect(squatter.statusCode).toBe(200);
    const cookie = `rapport_session=${squatter.cookies.find((c) => c.name === 'rapport_session')!.value}`;
    const csrf = squatter.json().csrfToken as string;
    const minted = await rapport.app.inject({
      method: 'POST',
      url: `/api/v1/workspaces/${ws.workspaceId}/tokens`,
      headers: { cookie, 'x-csrf-token': csrf },
      payload: { name: 'backdoor', role: 'admin', currentPassword: 'squatter knows this phrase' },
    });
    expect(minted.statusCode).toBe(201);
    const apiToken = minted.json().token as string;
    const squatterApi = client(rapport, apiToken, ws.workspaceId);
    expect((await squatterApi.get('/customers')).statusCode).toBe(200);

    // The real owner of the address asks for a link and uses it.
    expect((await ask(victim, '10.9.10.1')).statusCode).toBe(202);
    const token = await mailedToken(victim);
    expect((await reset(token, 'only the real owner knows this', '10.9.10.2')).statusCode).toBe(200);

    expect((await login(victim, 'squatter knows this phrase')).statusCode).toBe(401);
    const session = await rapport.app.inject({ method: 'GET', url: '/api/v1/auth/session', headers: { cookie } });
    expect(session.statusCode).toBe(401);
    expect((await squatterApi.get('/customers')).statusCode).toBe(401);

    const owner = await login(victim, 'only the real owner knows this');
    expect(owner.statusCode).toBe(200);
    expect(owner.json().alerts).toEqual([expect.objectContaining({ kind: 'password_reset', message: expect.stringMatching(/signed out.*1 API token/) })]);
  });
});

describe('without a mail relay', () => {
  it("answers 503 auth.mail_not_configured in people's words", async () => {
    const bare = await startTestServer({ config: { systemMailSmtpUrl: null } });
    try {
      const res = await bare.app.inject({ method: 'POST', url: '/api/v1/auth/password-resets', payload: { email: 'someone@example.test' } });
      expect(res.statusCode).toBe(503);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json()).toMatchObject({ code: 'auth.mail_not_configured', detail: expect.stringMatching(/cannot send email/) });
    } finally {
      await bare.stop();
    }
  });
});
