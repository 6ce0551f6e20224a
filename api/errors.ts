/**
 * The one place where errors become HTTP responses. Every error response has the shape
 * `{"error": {"code", "message", "details"}}` (api-contract.md, Conventions).
 *
 * - AppError kinds (lib/errors.ts) map to status codes through `statusByKind`.
 * - body-parser's own errors (bad JSON, too large, bad charset) are the client's fault: 4xx.
 * - Temporal's errors: an Update rejected by its validator with an ApplicationFailure of type
 *   INVALID_STATE is 409 INVALID_STATE; an unknown workflow is 404; Temporal unreachable is 503.
 * - ServiceUnavailableError (lib/errors.ts: a dependency is down) is 503 SERVICE_UNAVAILABLE.
 * - 429 and 503 answers carry `Retry-After` (api-contract.md, Overload): the error's
 *   `retryAfterSeconds` when it has one, else a default; a header already set (express-rate-limit
 *   sets it from the store's reset time) is kept.
 * - Anything else is 500 INTERNAL, logged with the request id, never leaking internals.
 */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import {
  ApplicationFailure,
  ServiceError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  isGrpcServiceError,
} from '@temporalio/client';
import { AppError, ServiceUnavailableError, type ErrorKind } from '../lib/errors';
import { refusalOfCode } from '../lib/vocabulary';
import { contextOf } from './observability';

const statusByKind: Record<ErrorKind, number> = {
  validation: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  refused: 422,
  rate_limited: 429,
};

/** Codes whose status is more specific than their kind's (415 is not an AppError kind of its own). */
const statusByCode: Readonly<Record<string, number>> = { UNSUPPORTED_MEDIA_TYPE: 415 };

export function httpStatusOf(err: AppError): number {
  return statusByCode[err.code] ?? statusByKind[err.kind];
}

export interface ErrorBody {
  error: { code: string; message: string; details: Record<string, unknown> };
}

export function errorBody(code: string, message: string, details: Record<string, unknown> = {}): ErrorBody {
  return { error: { code, message, details } };
}

interface Mapped {
  status: number;
  body: ErrorBody;
  /** For 429 / 503: the Retry-After header (seconds). */
  retryAfterSeconds?: number;
}

/** Retry-After of a 429 / 503 whose error does not say (seconds). */
export const defaultRetryAfterSeconds: Readonly<Record<429 | 503, number>> = { 429: 1, 503: 5 };

function retryAfterOf(err: AppError): number | undefined {
  const value = err.details.retryAfterSeconds;
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined;
}

/** body-parser's own errors carry a `type`; they are the client's fault, never a 500. */
function bodyParserError(err: unknown): Mapped | undefined {
  const e = err as { type?: string; status?: number; message?: string; limit?: number };
  switch (e.type) {
    case 'entity.parse.failed':
      return { status: 400, body: errorBody('MALFORMED_JSON', 'request body is not valid JSON') };
    case 'entity.too.large':
      return { status: 413, body: errorBody('PAYLOAD_TOO_LARGE', 'request body is too large', e.limit === undefined ? {} : { limitBytes: e.limit }) };
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return { status: 415, body: errorBody('UNSUPPORTED_MEDIA_TYPE', e.message ?? 'unsupported encoding') };
    case 'request.aborted':
      return { status: 400, body: errorBody('REQUEST_ABORTED', 'request aborted') };
    case 'request.size.invalid':
    case 'stream.encoding.set':
    case 'stream.not.readable':
      return { status: 400, body: errorBody('BAD_REQUEST', e.message ?? 'unreadable request body') };
    default:
      return undefined;
  }
}


/** A failure raised by an Update's validator or handler, as the caller should see it. */
function applicationFailure(failure: ApplicationFailure): Mapped | undefined {
  const type = failure.type;
  if (!type || !/^[A-Z][A-Z0-9_]{1,63}$/.test(type)) return undefined;
  const details = failure.details?.[0];
  const detailObject = typeof details === 'object' && details !== null && !Array.isArray(details) ? (details as Record<string, unknown>) : {};
  // The refusal table says the status (404 NOT_FOUND, 409 for conflicts); an unknown code is a refusal.
  const status = refusalOfCode(type)?.httpStatus ?? 422;
  return { status, body: errorBody(type, failure.message, detailObject) };
}

function temporalError(err: unknown): Mapped | undefined {
  if (err instanceof WorkflowNotFoundError) {
    return { status: 404, body: errorBody('NOT_FOUND', 'no such workflow', {}) };
  }
  if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure) {
    return applicationFailure(err.cause);
  }
  if (err instanceof ApplicationFailure) return applicationFailure(err);
  // Temporal unreachable or overloaded: the request may be retried; it is not the client's fault.
  if (err instanceof ServiceError || isGrpcServiceError(err)) {
    return { status: 503, body: errorBody('SERVICE_UNAVAILABLE', 'the workflow service is unavailable; retry later', { dependency: 'temporal' }) };
  }
  return undefined;
}

/** http-errors style errors (e.g. a malformed %-escape in the path) with a 4xx status. */
function clientHttpError(err: unknown): Mapped | undefined {
  const e = err as { status?: unknown; statusCode?: unknown; expose?: unknown; message?: unknown };
  const status = typeof e.status === 'number' ? e.status : typeof e.statusCode === 'number' ? e.statusCode : undefined;
  if (status === undefined || status < 400 || status > 499) return undefined;
  return { status, body: errorBody('BAD_REQUEST', e.expose === true && typeof e.message === 'string' ? e.message : 'bad request') };
}

/**
 * Error codes that mean "the database (or the connection to it) is down or restarting", not a bug:
 * Node's socket errors and Postgres' admin-shutdown, connection-exception and too-many-connections
 * SQLSTATEs. Nothing was written (a statement that fails this way commits nothing), so the client
 * may retry: 503 with Retry-After, like any other dependency that is down.
 */
const unreachableDatabaseCodes: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  '57P01',
  '57P02',
  '57P03',
  '08000',
  '08001',
  '08003',
  '08006',
  '53300',
]);

/** Which dependency an error says is down: Postgres by its codes, Redis by ioredis' give-up error. */
function downDependencyOf(err: unknown): string | undefined {
  const { code, name } = (err ?? {}) as { code?: unknown; name?: unknown };
  if (typeof code === 'string' && unreachableDatabaseCodes.has(code)) return 'postgres';
  // ioredis gave up on a command after its retries (Redis unreachable or restarting).
  if (name === 'MaxRetriesPerRequestError') return 'redis';
  return undefined;
}

function dependencyDown(err: unknown): Mapped | undefined {
  const dependency = downDependencyOf(err);
  if (dependency === undefined) return undefined;
  return {
    status: 503,
    body: errorBody('SERVICE_UNAVAILABLE', `a service this request needs (${dependency}) is unavailable; retry later`, { dependency }),
    retryAfterSeconds: 2,
  };
}

/** Maps any thrown value to a response; undefined means "unexpected" (500). */
export function mapError(err: unknown): Mapped | undefined {
  if (err instanceof AppError) {
    const retryAfterSeconds = retryAfterOf(err);
    return { status: httpStatusOf(err), body: { error: err.toJSON() }, ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }) };
  }
  if (err instanceof ServiceUnavailableError) {
    // The message may hold a raw driver error (hosts, ports): it goes to the log, not to the client.
    return {
      status: 503,
      body: errorBody('SERVICE_UNAVAILABLE', `a service this request needs (${err.dependency}) is unavailable; retry later`, { dependency: err.dependency }),
      retryAfterSeconds: err.retryAfterSeconds,
    };
  }
  return bodyParserError(err) ?? temporalError(err) ?? dependencyDown(err) ?? clientHttpError(err);
}

/** Sets Retry-After on a 429 / 503 unless a more precise one is already there. */
function setRetryAfter(res: Parameters<ErrorRequestHandler>[2], mapped: Mapped): void {
  if (mapped.status !== 429 && mapped.status !== 503) return;
  if (res.getHeader('Retry-After') !== undefined) return;
  res.setHeader('Retry-After', String(mapped.retryAfterSeconds ?? defaultRetryAfterSeconds[mapped.status]));
}

export const notFoundHandler: RequestHandler = (req, res) => {
  res.status(404).json(errorBody('NOT_FOUND', `no route for ${req.method} ${req.path}`));
};

export const errorHandler: ErrorRequestHandler = (err: unknown, req, res, _next) => {
  const mapped = mapError(err);
  const log = contextOf(res)?.log;
  if (mapped) {
    if (mapped.status >= 500) log?.warn({ err }, 'dependency unavailable');
    setRetryAfter(res, mapped);
    res.status(mapped.status).json(mapped.body);
    return;
  }
  // Unexpected: log it with the request id, never leak internals to the client.
  if (log) log.error({ err, method: req.method, url: req.originalUrl }, 'unexpected error');
  else console.error(`[api] ${req.method} ${req.originalUrl} failed:`, err);
  if (res.headersSent) {
    res.end();
    return;
  }
  res.status(500).json(errorBody('INTERNAL', 'internal error'));
};
