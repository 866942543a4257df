import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, createTestWorkspace, signIn, startTestServer, type TestServer, type TestWorkspace } from '../../../test/helpers.js';

let rapport: TestServer;
beforeAll(async () => {
  rapport = await startTestServer();
});
afterAll(async () => rapport?.stop());

type Session = Awaited<ReturnType<typeof signIn>>;
let n = 0;
const as = (s: Session, method: 'PATCH' | 'POST' | 'GET', url: string, payload?: unknown, ip = '10.20.0.1') =>
  rapport.app.inject({ method, url: `/api/v1${url}`, headers: { cookie: s.cookie, 'x-csrf-token': s.csrfToken }, ...(payload ? { payload } : {}), remoteAddress: ip });
const changePassword = (s: Session, currentPassword: string, newPassword: string, ip = `10.20.${++n}.1`) => as(s, 'POST', '/me/password', { currentPassword, newPassword }, ip);

async function freshAccount(): Promise<TestWorkspace> {
  return createTestWorkspace(rapport);
}

describe('changing your name', () => {
  it('sets the name colleagues see, without control or direction characters, and the session answers it', async () => {
    const ws = await freshAccount();
    const s = await signIn(rapport, ws.owner.email, ws.owner.password);
    const res = await as(s, 'PATCH', '/me', { name: '  Ada \u202eLovelace\u0007  ' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ id: ws.owner.id, email: ws.owner.email, name: 'Ada Lovelace' });
    expect((await as(s, 'GET', '/auth/session')).json().user.name).toBe('Ada Lovelace');
    const members = (await client(rapport, ws.token, ws.workspaceId).get('/users')).json().items;
    expect(members.find((m: { id: string }) => m.id === ws.owner.id).name).toBe('Ada Lovelace');
  });

  it('refuses a name of only spaces, and an API token (no person behind it)', async () => {
    const ws = await freshAccount();
    const s = await signIn(rapport, ws.owner.email, ws.owner.password);
    const blank = await as(s, 'PATCH', '/me', { name: '   ' });
    expect(blank.statusCode).toBe(422);
    expect(blank.json().detail).toBe('Type your name: it cannot be only spaces.');
    const byToken = await rapport.app.inject({ method: 'PATCH', url: '/api/v1/me', headers: { authorization: `Bearer ${ws.token}` }, payload: { name: 'Bot' } });
    expect(byToken.statusCode).toBe(403);
    const nobody = await rapport.app.inject({ method: 'PATCH', url: '/api/v1/me', payload: { name: 'Nobody' } });
    expect(nobody.statusCode).toBe(401);
    const byTokenPassword = await rapport.app.inject({
      method: 'POST',
      url: '/api/v1/me/password',
      headers: { authorization: `Bearer ${ws.token}` },
      payload: { currentPassword: ws.owner.password, newPassword: 'violet tram under quiet hills' },
    });
    expect(byTokenPassword.statusCode).toBe(403);
  });
});

describe('changing your password', () => {
  it('ends every other session of the account, keeps this one and the API tokens, and records a security alert', async () => {
    const ws = await freshAccount();
    const here = await signIn(rapport, ws.owner.email, ws.owner.password);
    const laptop = await signIn(rapport, ws.owner.email, ws.owner.password);
    const phone = await signIn(rapport, ws.owner.email, ws.owner.password);

    const res = await changePassword(here, ws.owner.password, 'violet tram under quiet hills');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      sessionsEnded: 2,
      message: 'Your password was changed. 2 other browsers were signed out; this one stays signed in. Your API tokens still work.',
    });

    // This browser stays signed in; the two others are signed out at once.
    const session = await as(here, 'GET', '/auth/session');
    expect(session.statusCode).toBe(200);
    expect((await as(laptop, 'GET', '/auth/session')).statusCode).toBe(401);
    expect((await as(phone, 'GET', '/auth/session')).statusCode).toBe(401);
    // The API token still works.
    expect((await client(rapport, ws.token, ws.workspaceId).get('/users')).statusCode).toBe(200);

    const [alert] = session.json().alerts;
    expect(alert).toMatchObject({ kind: 'password_changed' });
    expect(alert.message).toContain('the 2 other browsers that were signed in to your account were signed out');
    expect(alert.message).toContain('Your API tokens still work');

    // The new password signs in; the old one no longer does.
    expect((await signIn(rapport, ws.owner.email, 'violet tram under quiet hills')).body.user.id).toBe(ws.owner.id);
    const old = await rapport.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: ws.owner.email, password: ws.owner.password }, remoteAddress: '10.21.0.1' });
    expect(old.statusCode).toBe(401);
  });

  it('refuses a wrong current password with auth.wrong_password and changes nothing', async () => {
    const ws = await freshAccount();
    const here = await signIn(rapport, ws.owner.email, ws.owner.password);
    const other = await signIn(rapport, ws.owner.email, ws.owner.password);
    const res = await changePassword(here, 'not my password at all', 'violet tram under quiet hills');
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ code: 'auth.wrong_password', detail: 'Your current password is not right. Type the password you signed in with.' });
    // Not a 401: the browser that typed it stays signed in, and so does the other.
    expect((await as(here, 'GET', '/auth/session')).statusCode).toBe(200);
    expect((await as(other, 'GET', '/auth/session')).statusCode).toBe(200);
    expect((await signIn(rapport, ws.owner.email, ws.owner.password)).body.user.id).toBe(ws.owner.id);
  });

  it('holds the new password to the sign-up policy, in words a person can act on', async () => {
    const ws = await freshAccount();
    const here = await signIn(rapport, ws.owner.email, ws.owner.password);
    const short = await changePassword(here, ws.owner.password, 'Tr4m!x');
    expect(short.statusCode).toBe(422);
    expect(short.json()).toMatchObject({ code: 'auth.weak_password', detail: 'Use at least 10 characters. A few unrelated words make a strong passphrase.' });
    const weak = await changePassword(here, ws.owner.password, 'password123');
    expect(weak.statusCode).toBe(422);
    expect(weak.json().code).toBe('auth.weak_password');
    expect(weak.json().detail).toMatch(/^This password is too easy to guess\./);
    const same = await changePassword(here, ws.owner.password, ws.owner.password);
    expect(same.statusCode).toBe(422);
    expect(same.json().code).toMatch(/^auth\.(same_password|weak_password)$/);
    // Nothing changed: the current password still signs in.
    expect((await signIn(rapport, ws.owner.email, ws.owner.password)).body.user.id).toBe(ws.owner.id);
  });

  it('throttles guesses of the current password like sign-in guesses (429 with Retry-After), even from a live session', async () => {
    const ws = await freshAccount();
    const here = await signIn(rapport, ws.owner.email, ws.owner.password);
    const ip = '10.22.0.1';
    const answers: number[] = [];
    for (let i = 0; i < 10; i++) answers.push((await changePassword(here, `guess number ${i}`, 'violet tram under quiet hills', ip)).statusCode);
    expect(answers).toEqual(Array(10).fill(403));
    const blocked = await changePassword(here, ws.owner.password, 'violet tram under quiet hills', ip);
    expect(blocked.statusCode).toBe(429);
    expect(blocked.json().code).toBe('auth.too_many_attempts');
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    // The throttle answers before the password is checked, even a right one; the person signing in from elsewhere is not locked out.
    expect((await signIn(rapport, ws.owner.email, ws.owner.password)).body.user.id).toBe(ws.owner.id);
  });
});

describe('what the server can do, for the sign-in pages', () => {
  it('says, to anyone, that it cannot send email when no relay is set', async () => {
    const res = await rapport.app.inject({ method: 'GET', url: '/api/v1/auth/capabilities' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ canSendEmail: false });
  });
});
