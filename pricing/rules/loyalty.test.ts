import assert from 'node:assert/strict';
import { appliedDiscounts, contextAfter, makeCart, makeLine, nets } from '../test-support/fixtures';
import type { LoyaltyInput } from '../types';
import { loyaltyRule } from './loyalty';

// Nets of the worked example after step 3: M = 7020.
const lines = [
  makeLine({ lineId: 'a', unitPrice: 720 }),
  makeLine({ lineId: 'b', sellerId: 's2', unitPrice: 1800 }),
  makeLine({ lineId: 'c', sellerId: 's3', unitPrice: 4500 }),
];

function run(loyalty: LoyaltyInput | null | undefined) {
  return contextAfter(makeCart({ lines, loyalty }), [loyaltyRule]);
}

describe('pricing/rules/loyalty (step 5)', () => {
  it('redeems whole points up to the cap and allocates their value by rule A', () => {
    // cap = R(7020, 1000) = 702; floor(702 / 5) = 140 points = 700. Over 720/1800/4500 the floors
    // are 71/179/448 (698); remainders 5580/3420/5040 give the two units to a and c.
    const context = run({ points: 1000, minorUnitsPerPoint: 5, maxRedeemBps: 1000 });
    assert.deepEqual(context.loyalty, { pointsRedeemed: 140n, amountMinor: 700n });
    assert.deepEqual(nets(context), [720 - 72, 1800 - 179, 4500 - 449]);
    assert.deepEqual(appliedDiscounts(context), [{ source: 'loyalty', amount: 700, fundedBy: 'platform' }]);
    assert.equal(context.lines[2]?.platformFundedMinor, 449n);
  });

  it('redeems no more points than the buyer has', () => {
    const context = run({ points: 10, minorUnitsPerPoint: 1, maxRedeemBps: 1000 });
    assert.deepEqual(context.loyalty, { pointsRedeemed: 10n, amountMinor: 10n });
  });

  it('caps at the whole net when maxRedeemBps is null or absent', () => {
    for (const loyalty of [{ points: 1_000_000, minorUnitsPerPoint: 1, maxRedeemBps: null }, { points: 1_000_000, minorUnitsPerPoint: 1 }]) {
      const context = run(loyalty);
      assert.equal(context.loyalty.amountMinor, 7020n);
      assert.deepEqual(nets(context), [0, 0, 0]);
    }
  });

  it('rounds the cap by rule R (half up) before dividing into points', () => {
    // M = 15, 10 % = 1.5 -> 2.
    const context = contextAfter(makeCart({ lines: [makeLine({ lineId: 'a', unitPrice: 15 })], loyalty: { points: 9, minorUnitsPerPoint: 1, maxRedeemBps: 1000 } }), [loyaltyRule]);
    assert.equal(context.loyalty.pointsRedeemed, 2n);
  });

  it('redeems nothing when a point is worth more than the cap, and lists nothing', () => {
    const context = run({ points: 5, minorUnitsPerPoint: 1000, maxRedeemBps: 1000 });
    assert.deepEqual(context.loyalty, { pointsRedeemed: 0n, amountMinor: 0n });
    assert.deepEqual(appliedDiscounts(context), []);
  });

  it('does nothing without loyalty', () => {
    assert.deepEqual(run(undefined).loyalty, { pointsRedeemed: 0n, amountMinor: 0n });
    assert.deepEqual(run(null).loyalty, { pointsRedeemed: 0n, amountMinor: 0n });
  });
});
