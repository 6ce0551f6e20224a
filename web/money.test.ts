/** Money formatting and refusal wording of the storefront (web/src, DOM-free modules). */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { refusals } from '../lib/vocabulary';
import { explain, explainedCodes, explainVoucherReason, voucherReasons } from './src/explain';
import { formatMinor, minorToDecimalString, minorUnitExponent } from './src/money';

describe('storefront money formatting', () => {
  it('formats integer minor units with the currency exponent (USD 2, JPY 0, BHD 3)', () => {
    assert.equal(formatMinor(7722, 'USD'), '$77.22');
    assert.equal(formatMinor(5, 'USD'), '$0.05');
    assert.equal(formatMinor(0, 'USD'), '$0.00');
    assert.equal(formatMinor(-1490, 'USD'), '-$14.90');
    assert.equal(formatMinor(7722, 'JPY'), '¥7,722');
    assert.match(formatMinor(1234, 'BHD'), /^BHD\s1\.234$/u);
    assert.deepEqual(['USD', 'JPY', 'BHD'].map((c) => minorUnitExponent(c)), [2, 0, 3]);
  });

  it('is exact up to 2^53 - 1 (no float on the way): the digits are the integer digits', () => {
    assert.equal(formatMinor(Number.MAX_SAFE_INTEGER, 'USD'), '$90,071,992,547,409.91');
    fc.assert(
      fc.property(fc.integer({ min: -Number.MAX_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }), fc.constantFrom(0, 2, 3), (amount, exponent) => {
        const text = minorToDecimalString(amount, exponent);
        assert.equal(text.replace('.', '').replace(/^(-?)0+(?=\d)/, '$1'), String(amount));
        if (exponent > 0) assert.equal(text.split('.')[1]?.length, exponent);
      }),
    );
    assert.throws(() => minorToDecimalString(1.5, 2), RangeError);
  });
});

describe('storefront refusal wording', () => {
  const contractCodes = ['INSUFFICIENT_STOCK', 'VOUCHER_EXPIRED', 'VOUCHER_NOT_STARTED', 'VOUCHER_EXHAUSTED', 'VOUCHER_USER_LIMIT', 'VOUCHER_NOT_FOUND', 'VOUCHER_REJECTED', 'PAYMENT_DECLINED', 'PAYMENT_TIMEOUT', 'PRICE_CHANGED'];

  it("explains in words every failure code of api-contract.md and every checkout failure code of the project's vocabulary", () => {
    const failureCodes = [...new Set(refusals.map((r) => r.failureCode))];
    for (const code of [...contractCodes, ...failureCodes, 'CART_EMPTY', 'IDEMPOTENCY_KEY_REUSED', 'RATE_LIMITED', 'SERVICE_UNAVAILABLE', 'INVALID_STATE']) {
      assert.ok(explainedCodes.includes(code), `${code} has no words`);
      const text = explain(code, { code: 'X2OFF', reason: 'MIN_SPEND_NOT_MET', lines: [{ sku: 's', requested: 5, available: 3 }] });
      assert.doesNotMatch(text, /refused \(/, `${code}: ${text}`);
      assert.ok(text.length > 20, `${code}: ${text}`);
    }
  });

  it('names the voucher, the pricing reason and the short lines', () => {
    assert.equal(explain('VOUCHER_NOT_FOUND', { code: 'NOPE' }), 'There is no voucher “NOPE”. Check the spelling.');
    assert.match(explain('VOUCHER_REJECTED', { code: 'P5', reason: 'STACKING_NOT_ALLOWED' }), /“P5” cannot be used on this cart: another voucher of the same kind/);
    for (const reason of Object.keys(voucherReasons)) assert.doesNotMatch(explainVoucherReason(reason), /pricing refused/);
    const names = (sku: string): string => (sku === 'sku-a' ? 'Earbuds' : sku);
    assert.equal(explain('INSUFFICIENT_STOCK', { lines: [{ sku: 'sku-a', requested: 5, available: 3 }] }, names), 'Not enough stock: Earbuds: you asked for 5, only 3 available.');
    assert.equal(explain('SOMETHING_NEW'), 'The request was refused (SOMETHING_NEW).');
  });
});
