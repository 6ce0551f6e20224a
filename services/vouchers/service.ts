/**
 * Vouchers: definitions in Postgres, holds and redemptions limited by a total and a per-user limit.
 *
 * A usage (a hold, later consumed into a redemption) occupies one of the voucher's slots
 * 1..totalLimit and one of the user's slots 1..perUserLimit; Postgres partial unique indexes allow a
 * slot to be live once, and the insert is conditional on the slot numbers being within the limits,
 * so the limits hold whatever the concurrency, the retries, or the state of Redis (see
 * db/migrations/0012_vouchers.sql). Redis (./redis-state.ts) hands out the slot numbers and turns
 * away requests for exhausted vouchers without touching Postgres; after a Redis restart or flush its
 * state is rebuilt from Postgres.
 *
 * Every operation is idempotent by business key: hold per (code, orderId); consume and release
 * per orderId. release is the compensation of hold. A hold that is neither consumed nor released
 * (a crashed saga) expires after `holdTimeoutMs` and its slots are reused.
 */
import { limits } from '../limits';
import { parseInput, voucherCodeSchema } from '../shared/validation';
import { createDefinitions } from './definitions';
import { createHolds } from './holds';
import { createRedisSync } from './redis-sync';
import type { VoucherDeps, VoucherService } from './types';

export * from './types';
export { toPricingVoucher } from './pricing-mapping';
export { refusal } from './refusals';

export function createVoucherService({ pool, redis, now = () => new Date(), holdTimeoutMs = limits.holdTimeoutMsDefault }: VoucherDeps): VoucherService {
  if (!Number.isInteger(holdTimeoutMs) || holdTimeoutMs < limits.holdTimeoutMsMin || holdTimeoutMs > limits.holdTimeoutMsMax) {
    throw new RangeError(`holdTimeoutMs must be an integer in ${limits.holdTimeoutMsMin}..${limits.holdTimeoutMsMax}`);
  }
  const sync = createRedisSync({ pool, redis, now });
  return {
    ...createDefinitions({ pool, now, sync }),
    ...createHolds({ pool, redis, now, holdTimeoutMs, sync }),
    /** Rebuilds the voucher's Redis state from Postgres. */
    resync: (code) => sync.replace(parseInput(voucherCodeSchema, code, 'code')),
  };
}
