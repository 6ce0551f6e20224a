/**
 * The project's few explicit error types. Services throw them; `api/` maps them to HTTP status codes
 * in one place (api/errors.ts); activities turn them into non-retryable Temporal ApplicationFailures
 * whose `type` is the error's `code`. Anything else is an unexpected (transient or programming)
 * error: Temporal retries it, the API answers 500 without leaking details — except
 * `ServiceUnavailableError`, the one transient error with a meaning of its own (a dependency is
 * down): Temporal retries it like any other, the API answers 503 SERVICE_UNAVAILABLE with
 * `Retry-After`.
 */

import { refusalOfCode } from './vocabulary';

export interface FieldIssue {
  /** Path of the bad field, e.g. `lines[2].quantity`. */
  path: string;
  message: string;
}

export type ErrorKind =
  | 'validation' // 400: the input is malformed; nothing was written
  | 'not_found' // 404
  | 'conflict' // 409: the request conflicts with the current state (INVALID_STATE, IDEMPOTENCY_KEY_REUSED, PRICE_CHANGED)
  | 'refused' // 422: a business refusal (INSUFFICIENT_STOCK, VOUCHER_*, PAYMENT_DECLINED, CART_EMPTY, …)
  | 'unauthenticated' // 401
  | 'forbidden' // 403
  | 'rate_limited' // 429
  | 'too_large'; // 413

export class AppError extends Error {
  constructor(
    readonly kind: ErrorKind,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = new.target.name;
  }

  toJSON(): { code: string; message: string; details: Record<string, unknown> } {
    return { code: this.code, message: this.message, details: this.details };
  }
}

/** Bad input. `details.issues` names every bad field. */
export class ValidationError extends AppError {
  constructor(readonly issues: FieldIssue[], message = describeIssues(issues)) {
    super('validation', 'VALIDATION_FAILED', message, { issues });
  }
}

export class NotFoundError extends AppError {
  constructor(what: string, id: string) {
    super('not_found', 'NOT_FOUND', `${what} ${JSON.stringify(id)} not found`, { [what]: id });
  }
}

/**
 * A business refusal with a specific code from api-contract.md. Its kind comes from the refusal
 * table (lib/vocabulary.ts): a conflict (409) when the table says so, a refusal (422) otherwise.
 */
export class BusinessError extends AppError {
  constructor(code: string, message: string, details: Record<string, unknown> = {}, kind: 'refused' | 'conflict' = kindOfRefusal(code)) {
    super(kind, code, message, details);
  }
}

function kindOfRefusal(code: string): 'refused' | 'conflict' {
  return refusalOfCode(code)?.httpStatus === 409 ? 'conflict' : 'refused';
}

function describeIssues(issues: FieldIssue[]): string {
  return issues.length === 0 ? 'invalid input' : issues.map((i) => `${i.path || '(body)'}: ${i.message}`).join('; ');
}

/**
 * A dependency (Postgres, Redis, Temporal, the payment provider, …) is down or overloaded: the API
 * answers `503 SERVICE_UNAVAILABLE` with a `Retry-After` header (api-contract.md, Overload), and
 * nothing was written. Deliberately NOT an AppError: activities turn AppErrors into non-retryable
 * failures (activities/errors.ts), while a dependency being down is exactly what Temporal should
 * retry. The message and `dependency` are for the logs; the client gets a generic message and the
 * dependency's name only.
 */
export class ServiceUnavailableError extends Error {
  readonly code = 'SERVICE_UNAVAILABLE';

  constructor(
    /** What is down, by name (`redis`, `postgres`, `temporal`, `psp`); never a host or a raw error. */
    readonly dependency: string,
    message = `${dependency} is unavailable`,
    /** What `Retry-After` tells the client (seconds). */
    readonly retryAfterSeconds = 5,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}
