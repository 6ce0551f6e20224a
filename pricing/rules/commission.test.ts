import assert from 'node:assert/strict';
import { contextAfter, makeCart, makeLine } from '../test-support/fixtures';
import { pricingRules } from './index';

describe('pricing/rules/commission (step 7)', () => {
  it('charges commission on gross minus seller-funded discounts only', () => {
    const context = contextAfter(
      makeCart({
        lines: [makeLine({ lineId: 'a', sellerId: 'x', category: 'books', unitPrice: 2000 })],
        sellerPromotions: [{ id: 'p', sellerId: 'x', type: 'fixed_per_unit', amount: 300 }],
        categoryCampaigns: [{ id: 'c', category: 'books', type: 'fixed', amount: 200, fundedBy: 'platform' }],
        vouchers: [
          { code: 'X', scope: 'seller', sellerId: 'x', type: 'fixed', amount: 100 },
          { code: 'P', scope: 'platform', type: 'fixed', amount: 400 },
        ],
        loyalty: { points: 50, minorUnitsPerPoint: 1 },
        commissionRatesBps: { books: 1250 },
      }),
      pricingRules,
    );
    const lineState = context.lines[0]!;
    // sellerBase = 2000 - 300 (promotion) - 100 (seller voucher) = 1600; 12.5 % = 200.
    assert.equal(lineState.netMinor, 2000n - 300n - 200n - 100n - 400n - 50n);
    assert.equal(lineState.sellerBaseMinor, 1600n);
    assert.equal(lineState.commissionMinor, 200n);
  });

  it('uses the category rate, else the default, else 0, rounding half up', () => {
    const lines = [makeLine({ lineId: 'a', category: 'books', unitPrice: 30 }), makeLine({ lineId: 'b', category: 'food', unitPrice: 30 })];
    const commissions = (input: Parameters<typeof contextAfter>[0]) =>
      contextAfter(input, pricingRules).lines.map((lineState) => Number(lineState.commissionMinor));
    // 30 x 5 % = 1.5 -> 2; 30 x 15 % = 4.5 -> 5.
    assert.deepEqual(commissions(makeCart({ lines, commissionRatesBps: { books: 500 }, defaultCommissionBps: 1500 })), [2, 5]);
    assert.deepEqual(commissions(makeCart({ lines, commissionRatesBps: { books: 500 } })), [2, 0]);
  });
});
