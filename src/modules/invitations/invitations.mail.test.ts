import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../lib/clock.js';
import { client, createTestWorkspace, eventually, signIn, startTestServer, startWithMailRelay, type TestServer, type TestWorkspace } from '../../../test/helpers.js';
import { startSink } from '../channels/email/email.testing.js';

/**
 * Issue #8 H1 at its root: with the operator's mail relay set, an invitation link goes to the invited
 * email only. The admin who invites never sees it, so an admin of any workspace cannot invite
 * someone else's address, open the link and choose the password of that person's account.
 */
const clock = fixedClock('2026-03-02T09:00:00Z');
let rapport: TestServer;
let ws: TestWorkspace;
let sink: Awaited<ReturnType<typeof startWithMailRelay>>['sink'];
let stop: () => Promise<void>;

beforeAll(async () => {
  ({ rapport, ws, sink, stop } = await startWithMailRelay({ clock }));
});
afterAll(async () => stop?.());

let n = 0;
const email = () => `mailed-invitee-${++n}@example.test`;
const mailsTo = (address: string) => sink.received.filter((m) => m.to.includes(address));
const accept = (payload: Record<string, unknown>) => rapport.app.inject({ method: 'POST', url: '/api/v1/invitations/accept', payload, remoteAddress: '10.6.0.1' });

/** The mail sent to `address`, quoted-printable undone, and the token of its link. */
async function mailedInvitation(address: string) {
  const mails = await eventually(async () => mailsTo(address).length > 0 && mailsTo(address));
  expect(mails).toHaveLength(1);
  const text = mails[0].raw.replace(/=\r?\n/g, '').replace(/=3D/g, '=');
  const match = /(http:\/\/[^\s]+)\/accept-invitation#token=(rpi_[A-Za-z0-9_-]+)/.exec(text);
  expect(match, text).not.toBeNull();
  return { text, base: match![1], token: match![2] };
}

describe('inviting with a mail relay set', () => {
  for (const route of ['/invitations', '/users'] as const) {
    it(`POST ${route} mails the link to the invitee and answers no token; the mailed link works`, async () => {
      const address = email();
      const res = await client(rapport, ws.token, ws.workspaceId).post(route, { email: address, role: 'agent' });
      expect(res.statusCode).toBe(201);
      const answer = res.json();
      expect(answer).toMatchObject({ email: address, role: 'agent', delivery: 'emailed' });
      expect(answer).not.toHaveProperty('token');
      expect(answer).not.toHaveProperty('acceptUrl');
      expect(res.body).not.toMatch(/rpi_|accept-invitation/);

      const mail = await mailedInvitation(address);
      expect(mail.base).toBe(rapport.url);
      expect(mail.text).toMatch(/^From: no-reply@rapport\.test/m);
      expect(mail.text).toMatch(/^Auto-Submitted: auto-generated/m);
      expect(mail.text).toMatch(/invited you to join the workspace "Workspace ws-/);
      expect(mail.text).toContain('72 hours');

      const accepted = await accept({ token: mail.token, name: 'Mailed Person', password: 'a long mailed password' });
      expect(accepted.statusCode).toBe(200);
      expect(accepted.json()).toMatchObject({ email: address, role: 'agent', next: 'sign_in' });
      const session = await signIn(rapport, address, 'a long mailed password');
      expect(session.body.workspaces).toEqual([expect.objectContaining({ id: ws.workspaceId, role: 'agent' })]);
    });
  }

  it('names the admin who invited, when a person (not an API token) invites', async () => {
    const owner = await signIn(rapport, ws.owner.email, ws.owner.password);
    const address = email();
    const res = await rapport.app.inject({
      method: 'POST',
      url: `/api/v1/workspaces/${ws.workspaceId}/invitations`,
      payload: { email: address, role: 'admin' },
      headers: { cookie: owner.cookie, 'x-csrf-token': owner.csrfToken },
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ delivery: 'emailed' });
    expect(res.json().token).toBeUndefined();
    const mail = await mailedInvitation(address);
    expect(mail.text).toContain(`(${ws.owner.email}) invited you to join the workspace`);
    expect(mail.text).toMatch(/^Subject: Owner ws-.* invited you to Workspace ws-.* on Rapport/m);
  });

  it('answers at once even when the relay refuses the mail', async () => {
    const refusing = await startSink({ refuse: () => 550 });
    const other = await startTestServer({ clock, config: { systemMailSmtpUrl: `smtp://127.0.0.1:${refusing.port}` } });
    try {
      const otherWs = await createTestWorkspace(other);
      const res = await client(other, otherWs.token, otherWs.workspaceId).post('/invitations', { email: email(), role: 'agent' });
      expect(res.statusCode).toBe(201);
      expect(res.json()).toMatchObject({ delivery: 'emailed' });
      expect(res.json().token).toBeUndefined();
    } finally {
      await other.stop();
      await refusing.close();
    }
  });
});
