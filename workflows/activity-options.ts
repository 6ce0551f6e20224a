/**
 * Activity option presets, one per kind of side effect. Every preset retries without a limit on
 * attempts (no maximumAttempts: Temporal's default is unlimited): a transient fault (database or Redis restart, PSP 5xx, worker crash) must delay an
 * order, never fail it. Business refusals are non-retryable ApplicationFailures whose type is the
 * refusal's code (see activities/errors.ts), listed here too so that even an error thrown without the
 * non-retryable flag is not retried.
 */
import type { ActivityOptions } from '@temporalio/workflow';

/** Codes that end a step at once: retrying cannot change the answer. */
export const businessErrorTypes = [
  'VALIDATION_FAILED',
  'NOT_FOUND',
  'INSUFFICIENT_STOCK',
  'VOUCHER_NOT_FOUND',
  'VOUCHER_NOT_STARTED',
  'VOUCHER_EXPIRED',
  'VOUCHER_EXHAUSTED',
  'VOUCHER_USER_LIMIT',
  'PAYMENT_DECLINED',
  'IDEMPOTENCY_KEY_REUSED',
];

/** Fast single-statement database work (orders, inventory, vouchers, ledger). */
export const databaseActivity: ActivityOptions = {
  startToCloseTimeout: '15 seconds',
  retry: {
    initialInterval: '200 milliseconds',
    backoffCoefficient: 2,
    maximumInterval: '10 seconds',
    nonRetryableErrorTypes: businessErrorTypes,
  },
};

/**
 * Calls to the payment service provider. The client times out and retries with the same
 * idempotency key itself; this bound covers a slow PSP plus those retries.
 */
export const pspActivity: ActivityOptions = {
  startToCloseTimeout: '60 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    nonRetryableErrorTypes: businessErrorTypes,
  },
};

/**
 * Compensations: retried until they succeed, whatever they throw (the workflow also loops around
 * them), so an undo can only be delayed, never skipped.
 */
export const compensationActivity: ActivityOptions = {
  startToCloseTimeout: '60 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '60 seconds',
  },
};
