/**
 * Coded errors. A service throws `AppError`s made by the factories of its module's `.errors.ts`;
 * the HTTP error handler turns them into application/problem+json. Anything else is a generic 500
 * whose detail only reaches the log.
 */
export interface FieldError {
  path: string;
  message: string;
}

export class AppError extends Error {
  readonly code: string;
  readonly status: number;
  readonly title: string;
  readonly errors?: FieldError[];
  readonly headers?: Record<string, string>;
  /** Members added to the problem body beside `code` (RFC 9457 extension members), e.g. the messages a reply collided with. */
  readonly extensions?: Record<string, unknown>;

  constructor(opts: { code: string; status: number; title: string; detail?: string; errors?: FieldError[]; headers?: Record<string, string>; extensions?: Record<string, unknown> }) {
    super(opts.detail ?? opts.title);
    this.code = opts.code;
    this.status = opts.status;
    this.title = opts.title;
    this.errors = opts.errors;
    this.headers = opts.headers;
    this.extensions = opts.extensions;
  }
}

/** Makes an error factory for one code: `export const conversationNotFound = defineError(...)`. */
export function defineError(code: string, status: number, title: string) {
  return (detail?: string, extra: { errors?: FieldError[]; headers?: Record<string, string>; extensions?: Record<string, unknown> } = {}) => new AppError({ code, status, title, detail, ...extra });
}

export const commonErrors = {
  validation: defineError('validation.failed', 422, 'The request is not valid'),
  invalidJson: defineError('request.invalid_body', 400, 'The request body could not be read'),
  payloadTooLarge: defineError('request.too_large', 413, 'The request body is too large'),
  unsupportedMediaType: defineError('request.unsupported_media_type', 415, 'The content type is not supported'),
  routeNotFound: defineError('route.not_found', 404, 'No such route'),
  unauthenticated: defineError('auth.unauthenticated', 401, 'Sign in or send an API token'),
  forbidden: defineError('auth.forbidden', 403, 'Your role does not allow this'),
  csrf: defineError('auth.csrf_failed', 403, 'The X-CSRF-Token header is missing or wrong'),
  rateLimited: defineError('request.rate_limited', 429, 'Too many requests; try again later'),
  unavailable: defineError('service.unavailable', 503, 'The service is not available right now'),
  internal: defineError('internal', 500, 'Something went wrong on our side'),
};
