import assert from 'node:assert/strict';
import { contextAfter, makeCart, makeLine } from '../test-support/fixtures';
import type { PricingInput } from '../types';
import { platformVoucherRule } from './platform-voucher';
import { taxRule } from './tax';

function taxes(input: PricingInput, before = [] as (typeof taxRule)[]): number[] {
  return contextAfter(input, [...before, taxRule]).lines.map((lineState) => Number(lineState.taxMinor));
}

describe('pricing/rules/tax (step 6)', () => {
  it('uses the category rate, else the default, else 0', () => {
    const lines = [makeLine({ lineId: 'a', category: 'books' }), makeLine({ lineId: 'b', category: 'food' })];
    assert.deepEqual(taxes(makeCart({ lines, taxRatesBps: { books: 500 }, defaultTaxRateBps: 2000 })), [50, 200]);
    assert.deepEqual(taxes(makeCart({ lines, taxRatesBps: { books: 500 } })), [50, 0]);
    assert.deepEqual(taxes(makeCart({ lines, taxRatesBps: { books: 0 }, defaultTaxRateBps: 2000 })), [0, 200]);
  });

  it('rounds each line half up by rule R', () => {
    const lines = [makeLine({ lineId: 'a', unitPrice: 5 }), makeLine({ lineId: 'b', unitPrice: 4 }), makeLine({ lineId: 'c', unitPrice: 15 })];
    // 0.5 -> 1, 0.4 -> 0, 1.5 -> 2.
    assert.deepEqual(taxes(makeCart({ lines, defaultTaxRateBps: 1000 })), [1, 0, 2]);
  });

  it('taxes the net after discounts, not the gross', () => {
    const input = makeCart({
      lines: [makeLine({ lineId: 'a', unitPrice: 1000 })],
      vouchers: [{ code: 'P', scope: 'platform', type: 'fixed', amount: 100 }],
      defaultTaxRateBps: 1000,
    });
    assert.deepEqual(taxes(input, [platformVoucherRule]), [90]);
  });

  it('treats prototype names as ordinary categories', () => {
    const lines = [makeLine({ lineId: 'a', category: 'constructor' }), makeLine({ lineId: 'b', category: '__proto__' })];
    const taxRatesBps = Object.fromEntries([['__proto__', 700]]) as Record<string, number>;
    assert.deepEqual(taxes(makeCart({ lines, taxRatesBps, defaultTaxRateBps: 100 })), [10, 70]);
  });
});
