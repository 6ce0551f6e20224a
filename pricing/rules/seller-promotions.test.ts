import assert from 'node:assert/strict';
import { appliedDiscounts, contextAfter, makeCart, makeLine, nets } from '../test-support/fixtures';
import type { SellerPromotionInput } from '../types';
import { sellerPromotionsRule } from './seller-promotions';

function run(lines: Parameters<typeof makeCart>[0]['lines'], sellerPromotions: SellerPromotionInput[]) {
  return contextAfter(makeCart({ lines, sellerPromotions }), [sellerPromotionsRule]);
}

describe('pricing/rules/seller-promotions (step 1)', () => {
  it('percent: R(gross, rate), half up', () => {
    // 1999 x 12.5 % = 249.875 -> 250.
    const context = run([makeLine({ lineId: 'a', unitPrice: 1999 })], [{ id: 'p', sellerId: 's1', type: 'percent', rateBps: 1250 }]);
    assert.deepEqual(nets(context), [1749]);
    assert.deepEqual(appliedDiscounts(context), [{ source: 'promotion:p', amount: 250, fundedBy: 'seller' }]);
    assert.equal(context.lines[0]?.sellerFundedMinor, 250n);
  });

  it('fixed_per_unit: min(amount, unitPrice) x quantity', () => {
    const context = run(
      [makeLine({ lineId: 'a', unitPrice: 300, quantity: 3 }), makeLine({ lineId: 'b', sku: 'other', sellerId: 's2', unitPrice: 300, quantity: 2 })],
      [
        { id: 'p', sellerId: 's1', type: 'fixed_per_unit', amount: 150 },
        { id: 'q', sellerId: 's2', type: 'fixed_per_unit', amount: 500 },
      ],
    );
    // a: 150 x 3 = 450; b: min(500, 300) x 2 = 600, the whole line.
    assert.deepEqual(nets(context), [450, 0]);
  });

  it('applies only the best candidate per line', () => {
    // 10 % of 2000 = 200 < 150 x 2 = 300.
    const context = run(
      [makeLine({ lineId: 'a', unitPrice: 1000, quantity: 2 })],
      [
        { id: 'pct', sellerId: 's1', type: 'percent', rateBps: 1000 },
        { id: 'unit', sellerId: 's1', type: 'fixed_per_unit', amount: 150 },
      ],
    );
    assert.deepEqual(nets(context), [1700]);
    assert.deepEqual(context.lines[0]?.discounts.map((discount) => discount.source), ['promotion:unit']);
  });

  it('breaks a tie in favour of the earlier promotion', () => {
    const promotions: SellerPromotionInput[] = [
      { id: 'first', sellerId: 's1', type: 'fixed_per_unit', amount: 150 },
      { id: 'second', sellerId: 's1', type: 'percent', rateBps: 1500 },
    ];
    const context = run([makeLine({ lineId: 'a', unitPrice: 1000 })], promotions);
    assert.deepEqual(appliedDiscounts(context), [{ source: 'promotion:first', amount: 150, fundedBy: 'seller' }]);
  });

  it('matches skus: absent means every sku of the seller, a list only its skus, an empty list none', () => {
    const lines = [makeLine({ lineId: 'a', sku: 'sku-a' }), makeLine({ lineId: 'b', sku: 'sku-b' })];
    assert.deepEqual(nets(run(lines, [{ id: 'p', sellerId: 's1', skus: ['sku-b'], type: 'percent', rateBps: 1000 }])), [1000, 900]);
    assert.deepEqual(nets(run(lines, [{ id: 'p', sellerId: 's1', type: 'percent', rateBps: 1000 }])), [900, 900]);
    assert.deepEqual(nets(run(lines, [{ id: 'p', sellerId: 's1', skus: [], type: 'percent', rateBps: 1000 }])), [1000, 1000]);
  });

  it("ignores another seller's promotions, even for the same sku", () => {
    const context = run([makeLine({ lineId: 'a', sku: 'shared' })], [{ id: 'p', sellerId: 's2', type: 'percent', rateBps: 1000 }]);
    assert.deepEqual(nets(context), [1000]);
    assert.deepEqual(appliedDiscounts(context), []);
  });

  it('lists one entry per promotion in input order, with its total over lines, and never a zero', () => {
    const context = run(
      [
        makeLine({ lineId: 'a', sku: 'x', unitPrice: 1000 }),
        makeLine({ lineId: 'b', sku: 'y', unitPrice: 2000 }),
        makeLine({ lineId: 'c', sku: 'x', unitPrice: 500 }),
      ],
      [
        { id: 'zero', sellerId: 's1', type: 'percent', rateBps: 0 },
        { id: 'on-y', sellerId: 's1', skus: ['y'], type: 'fixed_per_unit', amount: 100 },
        { id: 'on-x', sellerId: 's1', skus: ['x'], type: 'percent', rateBps: 2000 },
      ],
    );
    assert.deepEqual(appliedDiscounts(context), [
      { source: 'promotion:on-y', amount: 100, fundedBy: 'seller' },
      { source: 'promotion:on-x', amount: 300, fundedBy: 'seller' },
    ]);
    assert.deepEqual(nets(context), [800, 1900, 400]);
  });
});
