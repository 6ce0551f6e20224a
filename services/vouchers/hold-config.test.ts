import assert from 'node:assert/strict';
import { limits } from '../limits';
import { paymentTimeoutMsFromEnv, voucherHoldMsFromEnv } from './hold-config';

describe('voucher hold duration (VOUCHER_HOLD_MS)', () => {
  const minute = 60_000;

  it('defaults to the payment wait plus a 15-minute margin', () => {
    assert.equal(paymentTimeoutMsFromEnv({}), 15 * minute);
    assert.equal(voucherHoldMsFromEnv({}), 30 * minute);
    assert.equal(voucherHoldMsFromEnv({}), limits.holdTimeoutMsDefault, 'the services default is the same sum');
    assert.equal(voucherHoldMsFromEnv({ PAYMENT_TIMEOUT_MS: String(60 * minute) }), 75 * minute);
    assert.equal(voucherHoldMsFromEnv({ PAYMENT_TIMEOUT_MS: '1000' }), 1000 + limits.voucherHoldMarginMs);
  });

  it('takes VOUCHER_HOLD_MS when it outlives the payment wait', () => {
    assert.equal(voucherHoldMsFromEnv({ VOUCHER_HOLD_MS: String(20 * minute) }), 20 * minute);
    assert.equal(voucherHoldMsFromEnv({ VOUCHER_HOLD_MS: String(15 * minute) }), 15 * minute, 'equal to the wait is accepted');
    assert.equal(voucherHoldMsFromEnv({ VOUCHER_HOLD_MS: '5000', PAYMENT_TIMEOUT_MS: '4000' }), 5000);
  });

  it('refuses at start-up a hold shorter than the payment wait, beyond the bound, or malformed', () => {
    assert.throws(() => voucherHoldMsFromEnv({ VOUCHER_HOLD_MS: String(10 * minute) }), /at least PAYMENT_TIMEOUT_MS/);
    assert.throws(() => voucherHoldMsFromEnv({ VOUCHER_HOLD_MS: String(50 * minute), PAYMENT_TIMEOUT_MS: String(60 * minute) }), /at least PAYMENT_TIMEOUT_MS/);
    assert.throws(() => voucherHoldMsFromEnv({ PAYMENT_TIMEOUT_MS: String(limits.holdTimeoutMsMax) }), /exceeds/);
    assert.throws(() => voucherHoldMsFromEnv({ VOUCHER_HOLD_MS: 'soon' }), /VOUCHER_HOLD_MS must be an integer/);
    assert.throws(() => voucherHoldMsFromEnv({ VOUCHER_HOLD_MS: '0' }), /VOUCHER_HOLD_MS must be an integer/);
    assert.throws(() => voucherHoldMsFromEnv({ PAYMENT_TIMEOUT_MS: '-5' }), /PAYMENT_TIMEOUT_MS must be an integer/);
  });
});
