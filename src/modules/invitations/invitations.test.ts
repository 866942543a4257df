import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../lib/clock.js';
import { addTestMember, client, createTestWorkspace, signIn, startTestServer, tokenFor, type TestServer, type TestWorkspace } from '../../../test/helpers.js';

const clock = fixedClock('2026-03-02T09:00:00Z');
let rapport: TestServer;
let ws: TestWorkspace;
let admin: ReturnType<typeof client>;

beforeAll(async () => {
  rapport = await startTestServer({ clock });
  ws = await createTestWorkspace(rapport);
  admin = client(rapport, ws.token, ws.workspaceId);
});
afterAll(async () => rapport?.stop());

let n = 0;
const email = () => `invitee-${++n}@example.test`;
const accept = (payload: Record<string, unknown>, headers: Record<string, string> = {}, remoteAddress = '127.0.0.1') =>
  rapport.app.inject({ method: 'POST', url: '/api/v1/invitations/accept', payload, headers, remoteAddress });

describe('inviting someone new', () => {
  it('gives the link once, lists the invitation without it, and accepting creates the account and membership, once', async () => {
    const address = email();
    const res = await admin.post('/invitations', { email: address.toUpperCase(), role: 'agent' });
    expect(res.statusCode).toBe(201);
    const inv = res.json();
    // No mail relay on this server: the link is answered, once, for the admin to pass on.
    expect(inv).toMatchObject({ email: address, role: 'agent', expiresAt: '2026-03-05T09:00:00.000Z', delivery: 'link' });
    expect(inv.token).toMatch(/^rpi_/);
    expect(inv.acceptUrl).toBe(`${rapport.url}/accept-invitation#token=${inv.token}`);
    const listed = (await admin.get('/invitations')).json().items.find((i: { id: string }) => i.id === inv.id);
    expect(listed).toBeDefined();
    expect(JSON.stringify(listed)).not.toContain(inv.token);
    // Only the hash is stored: the row holds the SHA-256 of the token and nowhere the token itself.
    const { rows } = await rapport.pool.query(
      `select set_config('app.system', 'on', true),
        (select count(*)::int from invitations i where i.id = $2 and i.token_hash = sha256(convert_to($1, 'UTF8'))) as hashed,
        (select count(*)::int from invitations i where i::text like '%' || $1 || '%') as plain`,
      [inv.token, inv.id],
    );
    expect(rows[0]).toMatchObject({ hashed: 1, plain: 0 });

    const accepted = await accept({ token: inv.token, name: 'New Agent', password: 'a long new password' });
    expect(accepted.statusCode).toBe(200);
    expect(accepted.json()).toEqual({ workspace: { id: ws.workspaceId, name: expect.any(String), slug: expect.any(String) }, email: address, role: 'agent', next: 'sign_in' });
    const session = await signIn(rapport, address, 'a long new password');
    expect(session.body.workspaces).toEqual([expect.objectContaining({ id: ws.workspaceId, role: 'agent' })]);

    const again = await accept({ token: inv.token, name: 'Someone', password: 'another password!' });
    expect(again.statusCode).toBe(400);
    expect(again.json().code).toBe('invitations.invalid_token');
    expect((await admin.get('/invitations')).json().items.some((i: { id: string }) => i.id === inv.id)).toBe(false);
  });

  it('answers the same for an expired, a revoked and an unknown token', async () => {
    const late = (await admin.post('/invitations', { email: email(), role: 'agent' })).json();
    const revoked = (await admin.post('/invitations', { email: email(), role: 'agent' })).json();
    const onTime = (await admin.post('/invitations', { email: email(), role: 'agent' })).json();
    expect((await admin.delete(`/invitations/${revoked.id}`)).statusCode).toBe(204);
    expect((await admin.delete(`/invitations/${revoked.id}`)).statusCode).toBe(404);
    clock.advance(72 * 3600_000 - 60_000);
    expect((await accept({ token: onTime.token, name: 'On Time', password: 'a long new password' })).statusCode).toBe(200);
    clock.advance(2 * 60_000);
    expect((await admin.get('/invitations')).json().items.some((i: { id: string }) => i.id === late.id)).toBe(false);
    const answers = await Promise.all([late.token, revoked.token, `rpi_${'x'.repeat(43)}`].map((token) => accept({ token, name: 'X', password: 'a long new password' })));
    for (const a of answers) {
      expect(a.statusCode).toBe(400);
      expect(a.json()).toEqual(answers[0].json());
    }
    expect(answers[0].json().code).toBe('invitations.invalid_token');
  });

  it('lets only one of two simultaneous accepts of the same link succeed', async () => {
    const inv = (await admin.post('/invitations', { email: email(), role: 'agent' })).json();
    const results = await Promise.all([1, 2].map((i) => accept({ token: inv.token, name: `Racer ${i}`, password: 'a long new password' })));
    expect(results.map((r) => r.statusCode).sort()).toEqual([200, 400]);
  });
});

describe('inviting an existing account', () => {
  it('joins it only signed in as that account (or with its own password); the link never sets its password', async () => {
    const elsewhere = await createTestWorkspace(rapport);
    const person = await addTestMember(rapport, elsewhere, 'agent', 'Existing');
    const stranger = await addTestMember(rapport, elsewhere, 'agent', 'Stranger');

    // Whoever holds the link (the inviting admin, without system email) tries a password of their own.
    const first = (await admin.post('/invitations', { email: person.email, role: 'supervisor' })).json();
    const taken = await accept({ token: first.token, name: 'Taken Over', password: 'attacker chosen password' });
    expect(taken.statusCode).toBe(200);
    expect(taken.json()).toMatchObject({ email: person.email.toLowerCase(), next: 'sign_in' });
    expect((await rapport.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: person.email, password: 'attacker chosen password' } })).statusCode).toBe(401);
    const unchanged = await signIn(rapport, person.email, person.password);
    expect(unchanged.body.user.name).toBe('Existing');
    expect(unchanged.body.workspaces.map((w: { id: string }) => w.id)).toEqual([elsewhere.workspaceId]);
    // The link is used up all the same.
    expect((await accept({ token: first.token, name: 'Again', password: 'attacker chosen password' })).json().code).toBe('invitations.invalid_token');

    const inv = (await admin.post('/invitations', { email: person.email, role: 'supervisor' })).json();
    const wrong = await signIn(rapport, stranger.email, stranger.password);
    const asStranger = await accept({ token: inv.token }, { cookie: wrong.cookie, 'x-csrf-token': wrong.csrfToken });
    expect(asStranger.json().code).toBe('invitations.wrong_account');
    const right = await signIn(rapport, person.email, person.password);
    expect((await accept({ token: inv.token }, { cookie: right.cookie })).json().code).toBe('auth.csrf_failed');
    const ok = await accept({ token: inv.token }, { cookie: right.cookie, 'x-csrf-token': right.csrfToken });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ email: person.email.toLowerCase(), role: 'supervisor', next: 'open' });
    const after = await signIn(rapport, person.email, person.password);
    expect(after.body.workspaces.map((w: { id: string; role: string }) => [w.id, w.role]).sort()).toEqual(
      [
        [elsewhere.workspaceId, 'agent'],
        [ws.workspaceId, 'supervisor'],
      ].sort(),
    );
  }, 120_000);

  it('answers alike whether or not the email has an account (issue #8 L3)', async () => {
    const elsewhere = await createTestWorkspace(rapport);
    const person = await addTestMember(rapport, elsewhere, 'agent', 'Hidden');
    const known = (await admin.post('/invitations', { email: person.email, role: 'agent' })).json();
    const unknown = (await admin.post('/invitations', { email: email(), role: 'agent' })).json();
    expect(Object.keys(known).sort()).toEqual(Object.keys(unknown).sort());
    const shape = (body: Record<string, unknown>) => ({ ...body, email: '*' });
    // Without details, one answer for both.
    const bare = await Promise.all([known, unknown].map((i) => accept({ token: i.token })));
    expect(bare.map((r) => r.statusCode)).toEqual([422, 422]);
    expect(bare[0].body).toBe(bare[1].body);
    // With details, one answer for both: "sign in to continue".
    const full = await Promise.all([known, unknown].map((i) => accept({ token: i.token, name: 'Probe', password: 'probing the accounts here' })));
    expect(full.map((r) => r.statusCode)).toEqual([200, 200]);
    expect(shape(full[0].json())).toEqual(shape(full[1].json()));
    // And both links are used up.
    const again = await Promise.all([known, unknown].map((i) => accept({ token: i.token, name: 'Probe', password: 'probing the accounts here' })));
    expect(again.map((r) => r.json().code)).toEqual(['invitations.invalid_token', 'invitations.invalid_token']);
  }, 120_000);
});

describe('choosing a password (issue #8 L5)', () => {
  it('refuses the commonest and the trivially weak with a coded 422 in words, and takes long passphrases', async () => {
    const inv = (await admin.post('/invitations', { email: email(), role: 'agent' })).json();
    for (const password of ['password123', '1234567890', 'aaaaaaaaaaaa', 'qwertyuiop', 'Password1!', inv.email]) {
      const res = await accept({ token: inv.token, name: 'Weak', password });
      expect(res.statusCode, password).toBe(422);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json()).toMatchObject({ code: 'auth.weak_password', detail: expect.stringMatching(/too easy to guess/) });
    }
    // The weak tries did not use the link up.
    const passphrase = 'the quiet heron waits by the cold river while ferries hum across the harbour at dawn '.repeat(3).slice(0, 256);
    const ok = await accept({ token: inv.token, name: 'Strong', password: passphrase });
    expect(ok.statusCode).toBe(200);
    await signIn(rapport, inv.email, passphrase);
  }, 120_000);
});

describe('accepting with a bad link (issue #8 L7, SECURITY A4)', () => {
  it('checks the token before anything else and throttles an address that tries many', async () => {
    const bad = (n: number) => accept({ token: `rpi_${'y'.repeat(40)}${n}`, name: 'X', password: 'aaaaaaaaaa' }, {}, '198.51.100.99');
    // A bad token is refused before the password is even looked at (this one is far too weak).
    const first = await bad(0);
    expect(first.statusCode).toBe(400);
    expect(first.json().code).toBe('invitations.invalid_token');
    for (let i = 1; i < 20; i++) expect((await bad(i)).statusCode).toBe(400);
    const throttled = await bad(20);
    expect(throttled.statusCode).toBe(429);
    expect(throttled.json().code).toBe('auth.too_many_attempts');
    expect(Number(throttled.headers['retry-after'])).toBeGreaterThan(0);
    // Another address is not held up.
    const inv = (await admin.post('/invitations', { email: email(), role: 'agent' })).json();
    expect((await accept({ token: inv.token, name: 'Fine', password: 'a long new password' }, {}, '198.51.100.100')).statusCode).toBe(200);
  }, 120_000);
});

describe('who may invite', () => {
  it('refuses agents, owner invitations from admins, and people who are already members', async () => {
    const agent = client(rapport, await tokenFor(rapport, ws, 'agent'), ws.workspaceId);
    expect((await agent.post('/invitations', { email: email(), role: 'agent' })).statusCode).toBe(403);
    expect((await agent.get('/invitations')).statusCode).toBe(403);
    expect((await admin.post('/invitations', { email: email(), role: 'owner' })).json().code).toBe('users.owner_role_needs_owner');
    expect((await admin.post('/invitations', { email: ws.owner.email, role: 'agent' })).json().code).toBe('users.already_member');
    const owner = await signIn(rapport, ws.owner.email, ws.owner.password);
    const asOwner = await rapport.app.inject({
      method: 'POST',
      url: `/api/v1/workspaces/${ws.workspaceId}/invitations`,
      payload: { email: email(), role: 'owner' },
      headers: { cookie: owner.cookie, 'x-csrf-token': owner.csrfToken },
    });
    expect(asOwner.statusCode).toBe(201);
  });

  it("cannot see or revoke another workspace's invitations", async () => {
    const other = await createTestWorkspace(rapport);
    const theirs = (await client(rapport, other.token, other.workspaceId).post('/invitations', { email: email(), role: 'agent' })).json();
    expect((await admin.delete(`/invitations/${theirs.id}`)).statusCode).toBe(404);
    expect((await admin.get('/invitations')).json().items.some((i: { id: string }) => i.id === theirs.id)).toBe(false);
  });
});

describe('the accept page asking what a link opens', () => {
  const preview = (token: string, remoteAddress = '10.40.0.1') => rapport.app.inject({ method: 'POST', url: '/api/v1/invitations/preview', payload: { token }, remoteAddress });

  it('names the workspace, the invited email, the role and the inviting admin, and leaves the link usable', async () => {
    const owner = await signIn(rapport, ws.owner.email, ws.owner.password);
    const address = email();
    const created = await rapport.app.inject({
      method: 'POST',
      url: `/api/v1/workspaces/${ws.workspaceId}/invitations`,
      headers: { cookie: owner.cookie, 'x-csrf-token': owner.csrfToken },
      payload: { email: address, role: 'supervisor' },
    });
    const inv = created.json();
    const res = await preview(inv.token);
    expect(res.statusCode).toBe(200);
    const name = owner.body.workspaces.find((w: { id: string }) => w.id === ws.workspaceId).name;
    expect(res.json()).toEqual({ workspace: { name }, email: address, role: 'supervisor', invitedBy: `Owner ${name.replace('Workspace ', '')}`, expiresAt: inv.expiresAt });
    // Looking does not use the link up.
    expect((await accept({ token: inv.token, name: 'Sue Supervisor', password: 'a long new password' })).statusCode).toBe(200);
    expect((await preview(inv.token)).json().code).toBe('invitations.invalid_token');
  });

  it('answers an unknown and a revoked link alike, names no inviter when an API token invited, and never tells whether the email has an account', async () => {
    const byToken = (await admin.post('/invitations', { email: ws.owner.email.replace('owner-', 'other-'), role: 'agent' })).json();
    expect((await preview(byToken.token)).json()).toMatchObject({ invitedBy: null, role: 'agent' });
    const revoked = (await admin.post('/invitations', { email: email(), role: 'agent' })).json();
    await admin.delete(`/invitations/${revoked.id}`);
    const answers = await Promise.all([preview(revoked.token), preview('rpi_not-a-real-token-at-all')]);
    expect(answers.map((a) => [a.statusCode, a.json().code])).toEqual([
      [400, 'invitations.invalid_token'],
      [400, 'invitations.invalid_token'],
    ]);
    // An existing account's invitation previews with exactly the same fields as a new email's.
    const existing = (await admin.post('/invitations', { email: (await addTestMember(rapport, await createTestWorkspace(rapport), 'agent')).email, role: 'agent' })).json();
    expect(Object.keys((await preview(existing.token)).json()).sort()).toEqual(['email', 'expiresAt', 'invitedBy', 'role', 'workspace']);
  });

  it('throttles a client address that tries many links', async () => {
    const ip = '10.41.0.1';
    for (let i = 0; i < 20; i++) expect((await preview(`rpi_guess-number-${i}-xxxxxxxx`, ip)).statusCode).toBe(400);
    expect((await preview('rpi_guess-number-final-xxxx', ip)).statusCode).toBe(429);
  });
});
