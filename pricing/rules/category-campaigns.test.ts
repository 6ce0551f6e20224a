import assert from 'node:assert/strict';
import { appliedDiscounts, contextAfter, makeCart, makeLine, nets } from '../test-support/fixtures';
import type { CategoryCampaignInput } from '../types';
import { categoryCampaignsRule } from './category-campaigns';

const lines = [
  makeLine({ lineId: 'a', sellerId: 's1', category: 'books', unitPrice: 1000 }),
  makeLine({ lineId: 'b', sellerId: 's2', category: 'books', unitPrice: 3000 }),
  makeLine({ lineId: 'c', sellerId: 's1', category: 'toys', unitPrice: 500 }),
];

function run(categoryCampaigns: CategoryCampaignInput[]) {
  return contextAfter(makeCart({ lines, categoryCampaigns }), [categoryCampaignsRule]);
}

describe('pricing/rules/category-campaigns (step 2, campaigns)', () => {
  it('percent over the matching lines, allocated by their nets', () => {
    const context = run([{ id: 'books', category: 'books', sellerId: null, type: 'percent', rateBps: 1000, fundedBy: 'platform' }]);
    // B = 4000, D = 400, split 100 / 300.
    assert.deepEqual(nets(context), [900, 2700, 500]);
    assert.deepEqual(appliedDiscounts(context), [{ source: 'campaign:books', amount: 400, fundedBy: 'platform' }]);
  });

  it('caps a percent at maxDiscount and allocates the capped amount by rule A', () => {
    // D = min(400, 250); 250 over 1000/3000 = 62.5 / 187.5, equal remainders: the unit goes to a.
    const context = run([{ id: 'capped', category: 'books', type: 'percent', rateBps: 1000, maxDiscount: 250, fundedBy: 'platform' }]);
    assert.deepEqual(nets(context), [937, 2813, 500]);
  });

  it('fixed: min(amount, B)', () => {
    const context = run([{ id: 'all-toys', category: 'toys', type: 'fixed', amount: 5000, fundedBy: 'seller' }]);
    assert.deepEqual(nets(context), [1000, 3000, 0]);
    assert.deepEqual(appliedDiscounts(context), [{ source: 'campaign:all-toys', amount: 500, fundedBy: 'seller' }]);
  });

  it('filters by seller and category together; null filters match everything', () => {
    assert.deepEqual(nets(run([{ id: 's1-books', category: 'books', sellerId: 's1', type: 'fixed', amount: 100, fundedBy: 'seller' }])), [900, 3000, 500]);
    // 450 over 1000/3000/500 = 100 / 300 / 50 exactly.
    assert.deepEqual(nets(run([{ id: 'all', category: null, sellerId: null, type: 'fixed', amount: 450, fundedBy: 'platform' }])), [900, 2700, 450]);
  });

  it('is funded by fundedBy, line by line', () => {
    const context = run([{ id: 'c', sellerId: 's1', type: 'fixed', amount: 150, fundedBy: 'seller' }]);
    assert.equal(context.lines[0]?.sellerFundedMinor, 100n);
    assert.equal(context.lines[2]?.sellerFundedMinor, 50n);
    assert.equal(context.lines[0]?.platformFundedMinor, 0n);
  });

  it('does not apply, and is never rejected, below its minimum spend or without a matching line', () => {
    const context = run([
      { id: 'too-high', category: 'books', minSpend: 4001, type: 'fixed', amount: 100, fundedBy: 'platform' },
      { id: 'no-match', category: 'food', type: 'fixed', amount: 100, fundedBy: 'platform' },
      { id: 'exact', category: 'books', minSpend: 4000, type: 'fixed', amount: 40, fundedBy: 'platform' },
    ]);
    assert.deepEqual(appliedDiscounts(context).map((discount) => discount.source), ['campaign:exact']);
    assert.equal(context.rejectedVouchers.size, 0);
  });

  it('applies campaigns in input order, each on the running net', () => {
    const context = run([
      { id: 'first', category: 'toys', type: 'percent', rateBps: 1000, fundedBy: 'platform' },
      { id: 'second', category: 'toys', type: 'percent', rateBps: 1000, fundedBy: 'seller' },
    ]);
    // 500 -> 450 -> 405.
    assert.deepEqual(nets(context), [1000, 3000, 405]);
    assert.deepEqual(context.lines[2]?.discounts.map((discount) => [discount.source, discount.amountMinor]), [
      ['campaign:first', 50n],
      ['campaign:second', 45n],
    ]);
  });

  it('accepts a zero discount without listing it', () => {
    const context = run([{ id: 'nothing', category: 'books', type: 'percent', rateBps: 0, fundedBy: 'platform' }]);
    assert.deepEqual(appliedDiscounts(context), []);
    assert.ok(context.lines.every((lineState) => lineState.discounts.length === 0));
  });
});
