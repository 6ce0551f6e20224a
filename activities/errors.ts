/**
 * The boundary between services and Temporal: a service's AppError (a business refusal or bad
 * input: retrying cannot change it) becomes a non-retryable ApplicationFailure whose type is the
 * error's code and whose first detail is the error's details; anything else is left as it is, a
 * transient failure that Temporal retries.
 */
import { ApplicationFailure } from '@temporalio/common';
import { AppError } from '../lib/errors';

export function toActivityFailure(err: unknown): unknown {
  if (err instanceof AppError) {
    return ApplicationFailure.create({ type: err.code, message: err.message, details: [err.details], nonRetryable: true, cause: err });
  }
  return err;
}

/** Wraps every function of an activity object with the error boundary. */
export function withFailureBoundary<T extends Record<string, (...args: never[]) => Promise<unknown>>>(activities: T): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(activities)) {
    wrapped[name] = async (...args: never[]): Promise<unknown> => {
      try {
        return await fn(...args);
      } catch (err) {
        throw toActivityFailure(err);
      }
    };
  }
  return wrapped as T;
}
