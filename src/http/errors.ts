import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isDatabaseUnavailable } from '../db/errors.js';
import { AppError, commonErrors, type FieldError } from '../lib/errors.js';
import { type AjvIssue, humanMessage } from './validation-messages.js';

const PROBLEM_TYPE_BASE = '/problems/';

export function sendProblem(reply: FastifyReply, error: AppError): FastifyReply {
  if (error.headers) reply.headers(error.headers);
  const body: Record<string, unknown> = {
    ...error.extensions,
    type: PROBLEM_TYPE_BASE + error.code,
    title: error.title,
    status: error.status,
    code: error.code,
  };
  if (error.message && error.message !== error.title) body.detail = error.message;
  if (error.errors) body.errors = error.errors;
  return reply.code(error.status).type('application/problem+json; charset=utf-8').serializer(JSON.stringify).send(body);
}

export function toAppError(error: unknown): AppError | null {
  if (error instanceof AppError) return error;
  const e = error as FastifyError & { validation?: Array<Record<string, any>>; validationContext?: string; errno?: string };
  if (e?.validation) {
    return commonErrors.validation(undefined, { errors: fieldErrors(e.validation, e.validationContext) });
  }
  switch (e?.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return commonErrors.payloadTooLarge();
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return commonErrors.unsupportedMediaType();
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return commonErrors.invalidJson('The body must be valid JSON.');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return commonErrors.invalidJson('The Content-Length does not match the body.');
  }
  if (e instanceof SyntaxError && (e as FastifyError).statusCode === 400) return commonErrors.invalidJson('The body must be valid JSON.');
  // The database cannot serve now: the request may succeed later (503, not 500).
  if (isDatabaseUnavailable(e)) {
    return commonErrors.unavailable(undefined, { headers: { 'retry-after': '5' } });
  }
  if (e?.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
    return new AppError({ code: 'request.invalid', status: e.statusCode, title: 'The request is not valid' });
  }
  return null;
}

/**
 * One sentence per field (validation-messages.ts). A union (`Nullable(Tag)`) fails in each of its
 * branches: the branch's real reason ("has characters that are not allowed") is kept, not "must be
 * empty" from the null branch nor the union's own "not one of the choices".
 */
function fieldErrors(issues: Array<Record<string, any>>, context?: string): FieldError[] {
  const byPath = new Map<string, { issue: Record<string, any>; rank: number }>();
  for (const v of issues) {
    let path = `${context ?? 'body'}${String(v.instancePath ?? '').replace(/\//g, '.')}`;
    if (v.keyword === 'required' && v.params?.missingProperty) path += `.${v.params.missingProperty}`;
    if (v.keyword === 'additionalProperties' && v.params?.additionalProperty) path += `.${v.params.additionalProperty}`;
    const rank = v.keyword === 'anyOf' || v.keyword === 'oneOf' ? 2 : v.keyword === 'type' ? 1 : 0;
    const seen = byPath.get(path);
    if (!seen || rank < seen.rank) byPath.set(path, { issue: v, rank });
  }
  return [...byPath].map(([path, { issue }]) => ({ path, message: humanMessage(issue as AjvIssue, path) }));
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error, request: FastifyRequest, reply) => {
    const known = toAppError(error);
    if (known) {
      if (known.status >= 500) request.log.warn({ code: known.code, err: { message: (error as Error).message, code: (error as FastifyError).code } }, 'request failed');
      return sendProblem(reply, known);
    }
    // Unknown: the detail goes to the log only; the client gets a generic 500.
    request.log.error({ err: safeError(error) }, 'unhandled error');
    return sendProblem(reply, commonErrors.internal());
  });
  app.setNotFoundHandler((request, reply) => sendProblem(reply, commonErrors.routeNotFound()));
}

/** What of an unknown error may be logged: never driver `detail` (it can quote row values). */
export function safeError(error: unknown): Record<string, unknown> {
  const e = error as Error & { code?: string };
  return { type: e?.constructor?.name, message: e?.message, code: e?.code, stack: e?.stack };
}
