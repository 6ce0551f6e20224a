/**
 * Activity option presets, one per kind of side effect. Every preset retries without a limit on
 * attempts (no maximumAttempts: Temporal's default is unlimited): a transient fault (database or Redis restart, PSP 5xx, worker crash) must delay an
 * order, never fail it. Business refusals are non-retryable ApplicationFailures whose type is the
 * refusal's code (see activities/errors.ts), listed here too so that even an error thrown without the
 * non-retryable flag is not retried.
 */
import type { RetryPolicy } from '@temporalio/common';
import type { ActivityOptions, LocalActivityOptions } from '@temporalio/workflow';
import { businessErrorTypes } from '../lib/vocabulary';

/** Codes that end a step at once: retrying cannot change the answer (lib/vocabulary.ts' refusal table). */
export { businessErrorTypes };

/** Retries of database steps: quick at first, a business refusal ends them at once. */
const databaseRetry: RetryPolicy = {
  initialInterval: '200 milliseconds',
  backoffCoefficient: 2,
  maximumInterval: '10 seconds',
  nonRetryableErrorTypes: businessErrorTypes,
};

/** Retries of PSP calls: slower (the PSP client retries inside each attempt too). */
const pspRetry: RetryPolicy = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '30 seconds',
  nonRetryableErrorTypes: businessErrorTypes,
};

/** Retries of undos: whatever they throw, until they succeed. */
const compensationRetry: RetryPolicy = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '60 seconds',
};

/** Retries of a parcel's money moves: transient faults until they succeed, a business refusal ends them. */
export const moneyMoveRetry: RetryPolicy = { ...compensationRetry, nonRetryableErrorTypes: businessErrorTypes };

/** Fast single-statement database work (orders, inventory, vouchers, ledger). */
export const databaseActivity: ActivityOptions = {
  startToCloseTimeout: '15 seconds',
  retry: databaseRetry,
};

/**
 * Calls to the payment service provider. The client times out and retries with the same
 * idempotency key itself; this bound covers a slow PSP plus those retries.
 */
export const pspActivity: ActivityOptions = {
  // Covers the simulator client's own attempts (3 x 5 s); a longer Stripe SDK retry is cut short and
  // repeated by Temporal with the same idempotency key. Short, because a charge whose worker died is
  // retried only once this runs out (the chaos scenario measured the stall).
  startToCloseTimeout: '20 seconds',
  retry: pspRetry,
};

/**
 * Compensations: retried until they succeed, whatever they throw (the workflow also loops around
 * them), so an undo can only be delayed, never skipped.
 */
export const compensationActivity: ActivityOptions = {
  startToCloseTimeout: '60 seconds',
  retry: compensationRetry,
};

/**
 * The short Postgres and Redis steps of `orderWorkflow` run as local activities: in the worker
 * that runs the workflow task, recorded as markers when the task completes, with no activity task
 * and no extra workflow task per step. Retries are the same as `databaseActivity` (without limit;
 * past a minute of local retries the SDK backs off with a durable timer). The PSP stays a regular
 * activity: a call that can be slow must not hold the workflow task open.
 */
export const localDatabaseActivity: LocalActivityOptions = {
  startToCloseTimeout: '15 seconds',
  retry: databaseRetry,
};

/** Local compensations and parcel bookkeeping: retried until they succeed, whatever they throw. */
export const localCompensationActivity: LocalActivityOptions = {
  startToCloseTimeout: '60 seconds',
  retry: {
    initialInterval: '200 milliseconds',
    backoffCoefficient: 2,
    maximumInterval: '60 seconds',
  },
};

/**
 * Asking the PSP what became of a payment whose webhook did not come (settle or cancel): bounded,
 * so that an unreachable PSP delays the refusal by at most this long; the charge's undo then keeps
 * asking without a limit.
 */
export const pspProbeActivity: ActivityOptions = {
  startToCloseTimeout: '15 seconds',
  scheduleToCloseTimeout: '45 seconds',
  retry: pspRetry,
};

/**
 * Money moves of a parcel (refund, payout): transient faults retried without limit, a business
 * refusal (the PSP refuses a refund, a seller has nowhere to be paid) ends the attempt at once so
 * that the parcel records it instead of failing or blocking.
 */
export const moneyMoveActivity: ActivityOptions = {
  startToCloseTimeout: '60 seconds',
  retry: moneyMoveRetry,
};
