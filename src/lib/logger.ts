import pino from 'pino';

export type Logger = pino.Logger;

/**
 * Structured logs. Bodies, passwords, tokens and cookies never reach them: request logging is limited
 * to method, route and status, and these paths are redacted in case an object slips through.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({
    level,
    redact: {
      paths: [
        'password', '*.password', 'token', '*.token', 'body', '*.body', 'req.headers.authorization',
        'req.headers.cookie', 'headers.authorization', 'headers.cookie', '*.passwordHash', 'csrfToken',
      ],
      censor: '[redacted]',
    },
  }, destination);
}
