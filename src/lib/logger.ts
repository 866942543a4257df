import pino from 'pino';

export type Logger = pino.Logger;

/**
 * Structured logs. Bodies, passwords, tokens and cookies never reach them: request logging is limited
 * to method, route and status, and these paths are redacted in case an object slips through.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      redact: {
        paths: [
          'password',
          '*.password',
          'token',
          '*.token',
          'body',
          '*.body',
          'req.headers.authorization',
          'req.headers.cookie',
          'headers.authorization',
          'headers.cookie',
          '*.passwordHash',
          'csrfToken',
        ],
        censor: '[redacted]',
      },
      serializers: { req: requestForLog },
    },
    destination,
  );
}

/**
 * What a request log line says of the request (Fastify uses this in place of its own): method, path
 * and the names of query parameters, never their values, which can hold a customer's email in a
 * search (`?q=`) or an invitation token in a link.
 */
export function requestForLog(req: { method?: string; url?: string; ip?: string }) {
  return { method: req.method, url: withoutQueryValues(req.url ?? ''), remoteAddress: req.ip };
}

export function withoutQueryValues(url: string): string {
  const i = url.indexOf('?');
  if (i < 0) return url;
  const names = url
    .slice(i + 1)
    .split('&')
    .filter(Boolean)
    .map((pair) => `${pair.split('=')[0]}=*`);
  return `${url.slice(0, i)}?${names.join('&')}`;
}
