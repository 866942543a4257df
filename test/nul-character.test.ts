import net from 'node:net';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signIn, startWithWorkspace, type TestServer, type TestWorkspace } from './helpers.js';

/**
 * L4: a NUL character anywhere in the input is refused at the edge with 422 `request.nul_character`,
 * never a 500 from PostgreSQL (which cannot store U+0000 in text or jsonb). One matrix over many
 * routes and every place input comes from: JSON strings (top level, nested, in arrays, as keys),
 * query strings, path parameters and headers.
 */
let rapport: TestServer;
let ws: TestWorkspace;
let conversationId: string;
let customerId: string;

beforeAll(async () => {
  let api: Awaited<ReturnType<typeof startWithWorkspace>>['api'];
  ({ rapport, ws, api } = await startWithWorkspace());
  const created = (await api.post('/conversations', { customer: { email: 'nul@example.test', name: 'Nul' }, message: { body: 'hello' } })).json();
  conversationId = created.id;
  customerId = created.customer.id;
});
afterAll(async () => rapport?.stop());

const N = '\u0000';

interface Case {
  name: string;
  method: InjectOptions['method'];
  url: string;
  payload?: unknown;
  headers?: Record<string, string>;
  path: string | RegExp;
}

function cases(): Case[] {
  const w = `/api/v1/workspaces/${ws.workspaceId}`;
  return [
    // JSON bodies: strings at any depth, in arrays, and keys.
    { name: 'customer name', method: 'POST', url: `${w}/customers`, payload: { name: `Ann${N}` }, path: 'body.name' },
    { name: 'custom attribute value', method: 'POST', url: `${w}/customers`, payload: { name: 'Ann', customAttributes: { plan: `gold${N}` } }, path: 'body.customAttributes.plan' },
    { name: 'custom attribute key', method: 'PATCH', url: `${w}/customers/${customerId}`, payload: { customAttributes: { [`pl${N}an`]: 'gold' } }, path: /^body\.customAttributes\.pl\\u0000an$/ },
    { name: 'nested customer name', method: 'POST', url: `${w}/conversations`, payload: { customer: { email: 'x@example.test', name: `X${N}` }, message: { body: 'hi' } }, path: 'body.customer.name' },
    { name: 'nested message body', method: 'POST', url: `${w}/conversations`, payload: { customer: { email: 'x@example.test' }, message: { body: `hi${N}there` } }, path: 'body.message.body' },
    { name: 'tag in an array', method: 'PATCH', url: `${w}/conversations/${conversationId}`, payload: { tags: ['ok', `b${N}d`] }, path: 'body.tags.1' },
    { name: 'reply body', method: 'POST', url: `${w}/conversations/${conversationId}/messages`, payload: { type: 'note', body: `note${N}` }, path: 'body.body' },
    { name: 'team name', method: 'POST', url: `${w}/teams`, payload: { name: `Team${N}` }, path: 'body.name' },
    { name: 'macro body', method: 'POST', url: `${w}/macros`, payload: { name: 'M', body: `x${N}` }, path: 'body.body' },
    { name: 'inbox settings key', method: 'POST', url: `${w}/inboxes`, payload: { name: 'Api', channel: 'api', settings: { [`k${N}`]: 1 } }, path: /^body\.settings\.k/ },
    { name: 'inbox name', method: 'POST', url: `${w}/inboxes`, payload: { name: `In${N}box`, channel: 'api' }, path: 'body.name' },
    { name: 'token name', method: 'POST', url: `${w}/tokens`, payload: { name: `t${N}`, role: 'agent', password: 'x' }, path: 'body.name' },
    { name: 'invitation email', method: 'POST', url: `${w}/invitations`, payload: { email: `a${N}@example.test`, role: 'agent' }, path: 'body.email' },
    { name: 'sign-in email', method: 'POST', url: '/api/v1/auth/login', payload: { email: `a${N}@example.test`, password: 'x' }, path: 'body.email' },
    { name: 'workspace name', method: 'POST', url: '/api/v1/workspaces', payload: { name: `W${N}`, slug: 'w-nul' }, path: 'body.name' },
    { name: 'invitation token', method: 'POST', url: '/api/v1/invitations/accept', payload: { token: `rpi_${N}`, name: 'A', password: 'long enough password' }, path: 'body.token' },
    // Query strings.
    { name: 'conversation search', method: 'GET', url: `${w}/conversations?q=a%00b`, path: 'querystring' },
    { name: 'customer search', method: 'GET', url: `${w}/customers?q=%00`, path: 'querystring' },
    { name: 'cursor', method: 'GET', url: `${w}/conversations?cursor=abc%00`, path: 'querystring' },
    { name: 'events cursor', method: 'GET', url: `${w}/conversations/${conversationId}/events?after=1%00`, path: 'querystring' },
    { name: 'realtime workspace id', method: 'GET', url: `/api/v1/realtime?workspaceId=${ws.workspaceId}%00`, path: 'querystring' },
    // Path parameters.
    { name: 'workspace id', method: 'GET', url: `/api/v1/workspaces/${ws.workspaceId}%00/conversations`, path: 'params' },
    { name: 'conversation id', method: 'GET', url: `${w}/conversations/%00`, path: 'params' },
    { name: 'attachment id', method: 'GET', url: `${w}/email/attachments/a%00b`, path: 'params' },
    { name: 'unknown route', method: 'GET', url: '/no-such-page%00', path: 'params' },
    // Headers used as input.
    { name: 'Idempotency-Key', method: 'POST', url: `${w}/customers`, payload: { name: 'Ann' }, headers: { 'idempotency-key': `key${N}1` }, path: 'headers.idempotency-key' },
    { name: 'X-CSRF-Token', method: 'POST', url: `${w}/customers`, payload: { name: 'Ann' }, headers: { 'x-csrf-token': `t${N}` }, path: 'headers.x-csrf-token' },
    { name: 'Origin', method: 'GET', url: `${w}/customers`, headers: { origin: `http://x${N}` }, path: 'headers.origin' },
  ];
}

describe('a NUL character in the input', () => {
  it('is refused with 422 request.nul_character on every route and in every place', async () => {
    const failures: string[] = [];
    for (const c of cases()) {
      const res = await rapport.app.inject({
        method: c.method,
        url: c.url,
        headers: { authorization: `Bearer ${ws.token}`, ...c.headers },
        ...(c.payload === undefined ? {} : { payload: c.payload as InjectOptions['payload'] }),
      });
      const body = res.headers['content-type']?.toString().startsWith('application/problem+json') ? res.json() : null;
      const path = body?.errors?.[0]?.path as string | undefined;
      const pathOk = typeof c.path === 'string' ? path === c.path : c.path.test(path ?? '');
      if (res.statusCode !== 422 || body?.code !== 'request.nul_character' || !pathOk) {
        failures.push(`${c.name}: ${res.statusCode} ${res.body.slice(0, 200)}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('in a session cookie or an Authorization header is refused too', async () => {
    for (const headers of [{ cookie: `rapport_session=a${N}b` }, { authorization: `Bearer rpt_${N}` }]) {
      const res = await rapport.app.inject({ method: 'GET', url: '/api/v1/auth/session', headers });
      expect([res.statusCode, res.json().code]).toEqual([422, 'request.nul_character']);
    }
  });

  it('is refused over a real socket as well (raw and %00-encoded), and a session still works after', async () => {
    const { cookie } = await signIn(rapport, ws.owner.email, ws.owner.password);
    const port = Number(new URL(rapport.url).port);
    const send = (request: string) =>
      new Promise<string>((resolve) => {
        const s = net.connect(port, '127.0.0.1', () => s.write(request));
        let data = '';
        s.on('data', (d) => (data += d));
        s.on('close', () => resolve(data));
        s.on('error', () => resolve(data));
      });
    const json = JSON.stringify({ name: `A${N}` });
    const post = await send(
      `POST /api/v1/workspaces/${ws.workspaceId}/customers HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${ws.token}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(json)}\r\nConnection: close\r\n\r\n${json}`,
    );
    expect(post).toMatch(/^HTTP\/1\.1 422/);
    expect(post).toContain('"code":"request.nul_character"');
    const query = await send(`GET /api/v1/workspaces/${ws.workspaceId}/customers?q=a%00 HTTP/1.1\r\nHost: localhost\r\nCookie: ${cookie}\r\nConnection: close\r\n\r\n`);
    expect(query).toMatch(/^HTTP\/1\.1 422/);
    // A raw NUL in a header never reaches a handler: Node's parser refuses it (400), never a 500.
    const header = await send(`GET /api/v1/auth/session HTTP/1.1\r\nHost: localhost\r\nIdempotency-Key: a${N}b\r\nConnection: close\r\n\r\n`);
    expect(header).toMatch(/^HTTP\/1\.1 (400|422)/);
    expect(header).toContain('application/problem+json');
    const ok = await send(`GET /api/v1/auth/session HTTP/1.1\r\nHost: localhost\r\nCookie: ${cookie}\r\nConnection: close\r\n\r\n`);
    expect(ok).toMatch(/^HTTP\/1\.1 200/);
  });
});
