/**
 * The response specs every route shares: an error response described by its codes, and the 401 /
 * 403 answers of every authenticated route. One place, so each route lists only its own errors.
 */
import type { ResponseSpec } from '../route';
import { errorResponseSchema } from '../schemas';

/** An error response (`{"error": {code, message, details}}`) with the codes it may carry. */
export const errorResponse = (description: string): ResponseSpec => ({ description, schema: errorResponseSchema });

/** What every route with `auth` may answer before its handler runs. */
export const authErrors = {
  401: errorResponse('UNAUTHENTICATED: missing, invalid or expired token'),
  403: errorResponse('FORBIDDEN: not allowed for this role or resource'),
};
