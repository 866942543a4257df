import { parse } from '../lib/settings.js';
import { parseNetworks } from '../lib/outbound/outbound.settings.js';

/**
 * Limits at the edge (M1): how long a client may take to send a request, and how many connections
 * one address, one principal and everyone together may hold. Collected by config.ts.
 *
 * Per-address limits count the socket's peer. Behind a reverse proxy every connection comes from the
 * proxy, so there raise HTTP_MAX_CONNECTIONS_PER_IP and REALTIME_MAX_SOCKETS_PER_IP and let the proxy
 * limit per client. IPv6 peers are counted per /64, the block one subscriber usually gets.
 */
export const edgeSettings = {
  trustProxy: {
    env: 'TRUST_PROXY',
    description:
      'addresses or networks of your reverse proxies (comma-separated CIDRs); requests from them are counted by the client address in X-Forwarded-For (sign-in, reset and invitation throttles); empty: the socket peer',
    default: [] as string[],
    parse: parseNetworks,
  },
  httpHeadersTimeoutMs: {
    env: 'HTTP_HEADERS_TIMEOUT_MS',
    description: 'time a client has to send the request line and headers (then 408)',
    default: 10_000,
    parse: parse.positiveInt,
  },
  httpRequestTimeoutMs: {
    env: 'HTTP_REQUEST_TIMEOUT_MS',
    description: 'time a client has to send a whole request, body included (then 408)',
    default: 60_000,
    parse: parse.positiveInt,
  },
  httpKeepAliveTimeoutMs: {
    env: 'HTTP_KEEP_ALIVE_TIMEOUT_MS',
    description: 'how long an idle keep-alive connection stays open',
    default: 5_000,
    parse: parse.positiveInt,
  },
  httpMaxConnections: {
    env: 'HTTP_MAX_CONNECTIONS',
    description: 'open HTTP connections (WebSockets included) this instance keeps; more are answered 503',
    default: 4_096,
    parse: parse.positiveInt,
  },
  httpMaxConnectionsPerIp: {
    env: 'HTTP_MAX_CONNECTIONS_PER_IP',
    description: 'open HTTP connections (WebSockets included) one address may hold; more are answered 429',
    default: 256,
    parse: parse.positiveInt,
  },
  httpMaxRequestsPerCredential: {
    env: 'HTTP_MAX_REQUESTS_PER_CREDENTIAL',
    // Below the database pool (30), so one credential cannot hold every connection of it.
    description: 'requests one browser session or API token may have in progress at once; more are answered 429',
    default: 16,
    parse: parse.positiveInt,
  },
  realtimeMaxSocketsPerPrincipal: {
    env: 'REALTIME_MAX_SOCKETS_PER_PRINCIPAL',
    description: 'realtime WebSockets one person or API token may hold (one per tab); more are closed 1013',
    default: 32,
    parse: parse.positiveInt,
  },
  realtimeMaxSocketsPerIp: {
    env: 'REALTIME_MAX_SOCKETS_PER_IP',
    description: 'realtime WebSockets one address may hold; more are closed 1013',
    default: 200,
    parse: parse.positiveInt,
  },
  smtpMaxConnections: {
    env: 'SMTP_MAX_CONNECTIONS',
    description: 'inbound SMTP connections at once; more are answered 421',
    default: 200,
    parse: parse.positiveInt,
  },
  smtpMaxConnectionsPerIp: {
    env: 'SMTP_MAX_CONNECTIONS_PER_IP',
    description: 'inbound SMTP connections one address may hold; more are answered 421',
    default: 10,
    parse: parse.positiveInt,
  },
};
