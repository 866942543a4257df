import type { ReactNode } from 'react';
import { ApiError } from '../api/client.js';

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <div className="state state-loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" /> {label}
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="state state-empty">
      <strong>{title}</strong>
      {children ? <div>{children}</div> : null}
    </div>
  );
}

export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 403) return 'Your role does not allow this.';
    // The server words each field's problem as a sentence (src/http/validation-messages.ts): shown as
    // they are, never with the field's path.
    if (error.fieldErrors.length) return fieldSentences(error);
    return error.message;
  }
  return 'Something went wrong. Try again.';
}

/** The field problems of a refused form, one sentence each ("Tags start with a letter…."). */
export function fieldSentences(error: ApiError): string {
  const unique = [...new Set(error.fieldErrors.map((e) => e.message))];
  return unique.map((m) => (/[.!?]$/.test(m) ? m : `${m}.`)).join(' ');
}

/** The sentence for one field of a form (`field`: its name in the request body), if the server refused it. */
export function fieldError(error: unknown, field: string): string | null {
  if (!(error instanceof ApiError)) return null;
  const hit = error.fieldErrors.find((e) => e.path.replace(/^(body|querystring)\./, '').split('.')[0] === field);
  return hit ? hit.message : null;
}

export function ErrorState({ error, retry }: { error: unknown; retry?: () => void }) {
  return (
    <div className="state state-error" role="alert">
      <strong>Could not load this.</strong>
      <div>{errorMessage(error)}</div>
      {retry ? (
        <button type="button" className="btn" onClick={retry}>
          Try again
        </button>
      ) : null}
    </div>
  );
}

export function InlineError({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <div className="inline-error" role="alert">
      {errorMessage(error)}
    </div>
  );
}
