/**
 * The one place where errors become HTTP responses. Every error response has the shape
 * `{"error": {"code", "message", "details"}}` (api-contract.md, Conventions).
 */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { AppError, type ErrorKind } from '../lib/errors';

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

export function httpStatusOf(err: AppError): number {
  return statusByKind[err.kind];
}

export interface ErrorBody {
  error: { code: string; message: string; details: Record<string, unknown> };
}

export function errorBody(code: string, message: string, details: Record<string, unknown> = {}): ErrorBody {
  return { error: { code, message, details } };
}

/** body-parser's own errors carry a `type`; they are the client's fault, never a 500. */
function bodyParserError(err: unknown): { status: number; body: ErrorBody } | undefined {
  const e = err as { type?: string; status?: number; message?: string };
  switch (e.type) {
    case 'entity.parse.failed':
      return { status: 400, body: errorBody('MALFORMED_JSON', 'request body is not valid JSON') };
    case 'entity.too.large':
      return { status: 413, body: errorBody('PAYLOAD_TOO_LARGE', 'request body is too large') };
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return { status: 415, body: errorBody('UNSUPPORTED_MEDIA_TYPE', e.message ?? 'unsupported encoding') };
    case 'request.aborted':
      return { status: 400, body: errorBody('REQUEST_ABORTED', 'request aborted') };
    default:
      return undefined;
  }
}

export const notFoundHandler: RequestHandler = (req, res) => {
  res.status(404).json(errorBody('NOT_FOUND', `no route for ${req.method} ${req.path}`));
};

export const errorHandler: ErrorRequestHandler = (err: unknown, req, res, _next) => {
  if (err instanceof AppError) {
    res.status(httpStatusOf(err)).json({ error: err.toJSON() });
    return;
  }
  const parserError = bodyParserError(err);
  if (parserError) {
    res.status(parserError.status).json(parserError.body);
    return;
  }
  // Unexpected: log it with the request id, never leak internals to the client.
  console.error(`[api] ${req.method} ${req.originalUrl} request ${String(res.getHeader('X-Request-Id'))} failed:`, err);
  res.status(500).json(errorBody('INTERNAL', 'internal error'));
};
