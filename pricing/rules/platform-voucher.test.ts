import assert from 'node:assert/strict';
import { appliedDiscounts, contextAfter, makeCart, makeLine, nets, rejections, workedExampleInput } from '../test-support/fixtures';
import type { VoucherInput } from '../types';
import { platformVoucherRule } from './platform-voucher';
import { sellerVouchersRule } from './seller-vouchers';

const lines = [
  makeLine({ lineId: 'a', sellerId: 'x', category: 'books', unitPrice: 1000 }),
  makeLine({ lineId: 'b', sellerId: 'y', category: 'toys', unitPrice: 3000 }),
];

function run(vouchers: VoucherInput[]) {
  return contextAfter(makeCart({ lines, vouchers }), [platformVoucherRule]);
}

describe('pricing/rules/platform-voucher (step 3)', () => {
  it('the worked example: 10 % of 7800 = 780, allocated 80 / 200 / 500 after X2OFF', () => {
    const context = contextAfter(workedExampleInput(), [sellerVouchersRule, platformVoucherRule]);
    assert.deepEqual(nets(context), [720, 1800, 4500]);
    assert.deepEqual(appliedDiscounts(context)[1], { source: 'voucher:VOUCHER10', amount: 780, fundedBy: 'platform' });
  });

  it('limits itself to a category when one is given', () => {
    const context = run([{ code: 'BOOKS', scope: 'platform', category: 'books', type: 'percent', rateBps: 2500 }]);
    assert.deepEqual(nets(context), [750, 3000]);
    assert.equal(context.lines[0]?.platformFundedMinor, 250n);
  });

  it('caps a percent and limits a fixed amount to its base', () => {
    assert.deepEqual(nets(run([{ code: 'CAP', scope: 'platform', type: 'percent', rateBps: 5000, maxDiscount: 400 }])), [900, 2700]);
    assert.deepEqual(nets(run([{ code: 'ALL', scope: 'platform', type: 'fixed', amount: 99_999 }])), [0, 0]);
  });

  it('allows one platform voucher: the second is STACKING_NOT_ALLOWED', () => {
    const context = run([
      { code: 'P1', scope: 'platform', type: 'fixed', amount: 100 },
      { code: 'P2', scope: 'platform', type: 'fixed', amount: 100 },
    ]);
    assert.deepEqual(rejections(context), [[1, 'STACKING_NOT_ALLOWED']]);
  });

  it('is NOT_APPLICABLE when no line has its category', () => {
    const context = run([{ code: 'FOOD', scope: 'platform', category: 'food', type: 'fixed', amount: 100 }]);
    assert.deepEqual(rejections(context), [[0, 'NOT_APPLICABLE']]);
  });

  it('is MIN_SPEND_NOT_MET when minSpend exceeds its base (and met when equal)', () => {
    assert.deepEqual(rejections(run([{ code: 'P', scope: 'platform', type: 'fixed', amount: 1, minSpend: 4001 }])), [[0, 'MIN_SPEND_NOT_MET']]);
    assert.deepEqual(rejections(run([{ code: 'P', scope: 'platform', type: 'fixed', amount: 1, minSpend: 4000 }])), []);
    // With a category the base is that category's net only.
    const books = run([{ code: 'B', scope: 'platform', category: 'books', type: 'fixed', amount: 1, minSpend: 1001 }]);
    assert.deepEqual(rejections(books), [[0, 'MIN_SPEND_NOT_MET']]);
  });
});
