/**
 * How long a voucher hold lasts (VOUCHER_HOLD_MS). A hold is taken before the charge and consumed
 * only after the payment outcome arrived, so it must outlive the longest payment wait
 * (PAYMENT_TIMEOUT_MS, the saga's `paymentTimeout`) plus the steps around it; otherwise a slow but
 * successful payment meets an expired hold (VOUCHER_HOLD_EXPIRED) and the paid order fails.
 *
 * Default: the payment timeout + `limits.voucherHoldMarginMs` (15 min). A value shorter than the
 * payment timeout is refused at start-up, as is one beyond `limits.holdTimeoutMsMax`.
 */
import { msToNumber } from '@temporalio/common/lib/time';
import { defaultCheckoutSettings } from '../../lib/vocabulary';
import { limits } from '../limits';

type Env = Record<string, string | undefined>;

const yearMs = 366 * 24 * 3600 * 1000;

function integerFromEnv(env: Env, name: string, max: number): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > max) throw new Error(`${name} must be an integer from 1 to ${max}, got "${raw}"`);
  return value;
}

/** The saga's payment wait: PAYMENT_TIMEOUT_MS (as api/config.ts reads it), else the workflow's default. */
export function paymentTimeoutMsFromEnv(env: Env = process.env): number {
  return integerFromEnv(env, 'PAYMENT_TIMEOUT_MS', yearMs) ?? msToNumber(defaultCheckoutSettings.paymentTimeout);
}

/** The voucher hold duration for this environment; throws (start-up refuses) on a value that cannot work. */
export function voucherHoldMsFromEnv(env: Env = process.env): number {
  const paymentTimeoutMs = paymentTimeoutMsFromEnv(env);
  const given = integerFromEnv(env, 'VOUCHER_HOLD_MS', yearMs);
  const holdMs = given ?? paymentTimeoutMs + limits.voucherHoldMarginMs;
  const source = given === undefined ? `PAYMENT_TIMEOUT_MS (${paymentTimeoutMs}) + ${limits.voucherHoldMarginMs} ms margin` : 'VOUCHER_HOLD_MS';
  if (holdMs < paymentTimeoutMs) {
    throw new Error(`VOUCHER_HOLD_MS (${holdMs}) must be at least PAYMENT_TIMEOUT_MS (${paymentTimeoutMs}): a hold must outlive the payment wait`);
  }
  if (holdMs > limits.holdTimeoutMsMax) {
    throw new Error(`the voucher hold duration ${holdMs} ms (${source}) exceeds ${limits.holdTimeoutMsMax} ms; lower PAYMENT_TIMEOUT_MS or VOUCHER_HOLD_MS`);
  }
  return holdMs;
}
