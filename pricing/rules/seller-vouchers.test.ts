import assert from 'node:assert/strict';
import { appliedDiscounts, contextAfter, makeCart, makeLine, nets, rejections } from '../test-support/fixtures';
import type { SellerPromotionInput, VoucherInput } from '../types';
import { sellerPromotionsRule } from './seller-promotions';
import { sellerVouchersRule } from './seller-vouchers';

const lines = [
  makeLine({ lineId: 'a', sellerId: 'x', category: 'electronics', unitPrice: 1000 }),
  makeLine({ lineId: 'b', sellerId: 'x', category: 'cables', unitPrice: 600 }),
  makeLine({ lineId: 'c', sellerId: 'y', category: 'electronics', unitPrice: 2000 }),
];

function run(vouchers: VoucherInput[], sellerPromotions: SellerPromotionInput[] = []) {
  return contextAfter(makeCart({ lines, vouchers, sellerPromotions }), [sellerPromotionsRule, sellerVouchersRule]);
}

describe('pricing/rules/seller-vouchers (step 2, seller vouchers)', () => {
  it('fixed: the worked example X2OFF, limited to the seller and category', () => {
    const context = run([{ code: 'X2OFF', scope: 'seller', sellerId: 'x', category: 'electronics', type: 'fixed', amount: 200 }]);
    assert.deepEqual(nets(context), [800, 600, 2000]);
    assert.deepEqual(appliedDiscounts(context), [{ source: 'voucher:X2OFF', amount: 200, fundedBy: 'seller' }]);
  });

  it('percent over all of the seller lines, capped', () => {
    // B = 1600, 15 % = 240, capped at 160: 100 / 60.
    const context = run([{ code: 'X15', scope: 'seller', sellerId: 'x', type: 'percent', rateBps: 1500, maxDiscount: 160 }]);
    assert.deepEqual(nets(context), [900, 540, 2000]);
  });

  it('STACKING_NOT_ALLOWED: one voucher per seller, but each seller has its own slot', () => {
    const context = run([
      { code: 'X1', scope: 'seller', sellerId: 'x', type: 'fixed', amount: 100 },
      { code: 'X2', scope: 'seller', sellerId: 'x', type: 'fixed', amount: 100 },
      { code: 'Y1', scope: 'seller', sellerId: 'y', type: 'fixed', amount: 100 },
    ]);
    assert.deepEqual(rejections(context), [[1, 'STACKING_NOT_ALLOWED']]);
    assert.deepEqual(appliedDiscounts(context).map((discount) => discount.source), ['voucher:X1', 'voucher:Y1']);
  });

  it('NOT_APPLICABLE: a seller without lines, or no line of the category', () => {
    const context = run([
      { code: 'Z', scope: 'seller', sellerId: 'z', type: 'fixed', amount: 100 },
      { code: 'XFOOD', scope: 'seller', sellerId: 'x', category: 'food', type: 'fixed', amount: 100 },
    ]);
    assert.deepEqual(rejections(context), [
      [0, 'NOT_APPLICABLE'],
      [1, 'NOT_APPLICABLE'],
    ]);
    assert.deepEqual(nets(context), [1000, 600, 2000]);
  });

  it('MIN_SPEND_NOT_MET against the base at the moment it applies, after promotions', () => {
    // A 10 % promotion leaves seller x at 1440; a minSpend of 1441 fails, 1440 passes.
    const promotion: SellerPromotionInput = { id: 'p', sellerId: 'x', type: 'percent', rateBps: 1000 };
    const failing = run([{ code: 'X', scope: 'seller', sellerId: 'x', type: 'fixed', amount: 100, minSpend: 1441 }], [promotion]);
    assert.deepEqual(rejections(failing), [[0, 'MIN_SPEND_NOT_MET']]);
    const passing = run([{ code: 'X', scope: 'seller', sellerId: 'x', type: 'fixed', amount: 100, minSpend: 1440 }], [promotion]);
    assert.deepEqual(rejections(passing), []);
  });

  it('a rejected voucher takes no slot', () => {
    const context = run([
      { code: 'BIG', scope: 'seller', sellerId: 'x', type: 'fixed', amount: 100, minSpend: 1_000_000 },
      { code: 'SMALL', scope: 'seller', sellerId: 'x', type: 'fixed', amount: 100 },
    ]);
    assert.deepEqual(rejections(context), [[0, 'MIN_SPEND_NOT_MET']]);
    assert.deepEqual(appliedDiscounts(context).map((discount) => discount.source), ['voucher:SMALL']);
  });

  it('checks stacking before applicability before minimum spend', () => {
    const context = run([
      { code: 'X1', scope: 'seller', sellerId: 'x', type: 'fixed', amount: 100 },
      { code: 'X2', scope: 'seller', sellerId: 'x', category: 'food', type: 'fixed', amount: 100, minSpend: 1_000_000 },
      { code: 'Z', scope: 'seller', sellerId: 'z', type: 'fixed', amount: 100, minSpend: 1_000_000 },
    ]);
    assert.deepEqual(rejections(context), [
      [1, 'STACKING_NOT_ALLOWED'],
      [2, 'NOT_APPLICABLE'],
    ]);
  });

  it('accepts a voucher worth zero: it takes the slot but is not listed', () => {
    // The promotion takes seller x's lines to zero, so the voucher computes to 0.
    const promotion: SellerPromotionInput = { id: 'free', sellerId: 'x', type: 'percent', rateBps: 10_000 };
    const context = run(
      [
        { code: 'X1', scope: 'seller', sellerId: 'x', type: 'fixed', amount: 100 },
        { code: 'X2', scope: 'seller', sellerId: 'x', type: 'fixed', amount: 100 },
      ],
      [promotion],
    );
    assert.deepEqual(rejections(context), [[1, 'STACKING_NOT_ALLOWED']]);
    assert.deepEqual(appliedDiscounts(context).map((discount) => discount.source), ['promotion:free']);
  });
});
