/**
 * The seller's view of an order (api/seller-scope.ts), as a pure function: on the brief's scenario
 * with every kind of discount (a seller voucher, a platform voucher, free shipping, loyalty points),
 * each seller sees its own lines, parcel and payout, figures that add up within its part, and
 * nothing of the other sellers — their ids, SKUs and voucher codes appear nowhere in its view.
 */
import assert from 'node:assert/strict';
import { price, type PriceBreakdown } from '../pricing';
import type { OrderView } from './order-view';
import { orderSchema } from './schemas';
import { scopeOrderForSeller, scopePricing, sellerHasPart } from './seller-scope';

const sellers = ['seller_x', 'seller_y', 'seller_z'] as const;

function scenarioPricing(): PriceBreakdown {
  return price({
    currency: 'USD',
    lines: [
      { lineId: 'a', sku: 'sku-a', sellerId: 'seller_x', category: 'electronics', unitPrice: 1000, quantity: 1 },
      { lineId: 'b', sku: 'sku-b', sellerId: 'seller_y', category: 'clothing', unitPrice: 2000, quantity: 1 },
      { lineId: 'c', sku: 'sku-c', sellerId: 'seller_z', category: 'books', unitPrice: 5000, quantity: 1 },
      { lineId: 'd', sku: 'sku-d', sellerId: 'seller_z', category: 'books', unitPrice: 700, quantity: 3 },
    ],
    vouchers: [
      { code: 'X2OFF', scope: 'seller', sellerId: 'seller_x', category: 'electronics', type: 'fixed', amount: 200, minSpend: 0 },
      { code: 'VOUCHER10', scope: 'platform', type: 'percent', rateBps: 1000, maxDiscount: 15000, minSpend: 0 },
      { code: 'FREESHIP', scope: 'shipping', type: 'free_shipping', maxDiscount: 700, minSpend: 0 },
    ],
    shippingFees: { seller_x: 300, seller_y: 300, seller_z: 500 },
    loyalty: { points: 500, minorUnitsPerPoint: 1, maxRedeemBps: 1000 },
    defaultTaxRateBps: 1000,
    defaultCommissionBps: 500,
  });
}

function orderView(pricing: PriceBreakdown | null, failure?: OrderView['failure']): OrderView {
  return {
    orderId: 'ord_1',
    userId: 'buyer_1',
    status: failure ? 'FAILED' : 'COMPLETED',
    ...(failure ? { failure } : {}),
    pricing,
    parcels:
      pricing && !failure
        ? sellers.map((sellerId) => ({ sellerId, status: 'HELD' as const, customerPaid: pricing.sellers[sellerId]!.customerPaid, payout: pricing.sellers[sellerId]!.payout, shipBy: '2030-01-01T00:00:00.000Z' }))
        : [],
    saga: { steps: [{ name: 'priceCart', status: 'completed', at: '2030-01-01T00:00:00.000Z' }], compensations: [] },
    createdAt: '2030-01-01T00:00:00.000Z',
  };
}

describe('seller scope of an order', () => {
  const pricing = scenarioPricing();

  it('the scenario exercises every kind of discount (sanity of the fixture)', () => {
    const sources = pricing.discounts.map((d) => d.source);
    for (const source of ['voucher:X2OFF', 'voucher:VOUCHER10', 'voucher:FREESHIP', 'loyalty']) assert.ok(sources.includes(source), `${source} in ${sources.join(', ')}`);
    assert.ok(pricing.totals.shippingDiscount > 0 && pricing.totals.shippingDiscount < pricing.totals.shipping, 'free shipping is capped: some sellers keep part of their fee');
  });

  for (const sellerId of sellers) {
    it(`${sellerId} sees its own lines, parcel and payout, and nothing of the other sellers`, () => {
      const view = scopeOrderForSeller(orderView(pricing), sellerId);
      assert.ok(view);
      const own = pricing.sellers[sellerId]!;
      assert.deepEqual(view.scope, { sellerId });
      assert.deepEqual(view.parcels.map((p) => [p.sellerId, p.customerPaid, p.payout]), [[sellerId, own.customerPaid, own.payout]]);
      assert.ok(view.pricing);
      assert.deepEqual(view.pricing.lines, pricing.lines.filter((l) => l.sellerId === sellerId));
      assert.deepEqual(Object.keys(view.pricing.sellers), [sellerId]);
      assert.deepEqual(view.pricing.splits.sellers, { [sellerId]: own.payout });
      // Totals of its part, not of the order.
      assert.equal(view.pricing.totals.grandTotal, own.customerPaid);
      assert.notEqual(view.pricing.totals.grandTotal, pricing.totals.grandTotal);
      assert.equal(view.pricing.totals.merchandiseNet, own.merchandiseNet);
      assert.equal(view.pricing.totals.tax, own.tax);
      // The figures of its part add up like an order's do (pricing-spec.md §4).
      const t = view.pricing.totals;
      assert.equal(t.merchandiseNet + t.tax + t.shipping - t.shippingDiscount, t.grandTotal);
      assert.equal(t.merchandiseGross - t.discountTotal, t.merchandiseNet);
      assert.equal(own.payout + view.pricing.splits.platform + view.pricing.splits.tax, t.grandTotal);
      // No other seller, none of their SKUs or vouchers, the buyer's rejected vouchers or points.
      const text = JSON.stringify(view);
      for (const other of sellers.filter((s) => s !== sellerId)) assert.ok(!text.includes(other), `${other} leaks into ${sellerId}'s view`);
      for (const line of pricing.lines.filter((l) => l.sellerId !== sellerId)) assert.ok(!text.includes(line.sku), `${line.sku} leaks`);
      if (sellerId !== 'seller_x') assert.ok(!text.includes('X2OFF'), "seller X's voucher leaks");
      assert.deepEqual(view.pricing.rejectedVouchers, []);
      assert.equal(view.pricing.loyalty.pointsRedeemed, 0);
      // The order's identity and progress stay; the view still matches the documented schema.
      assert.deepEqual([view.orderId, view.userId, view.status, view.createdAt], ['ord_1', 'buyer_1', 'COMPLETED', '2030-01-01T00:00:00.000Z']);
      assert.equal(view.saga.steps.length, 1);
      assert.ok(orderSchema.safeParse(view).success);
    });
  }

  it("the sellers' parts add up to the whole order: totals, splits and every discount", () => {
    const parts = sellers.map((s) => scopePricing(pricing, s)!);
    const total = (pick: (p: PriceBreakdown) => number): number => parts.reduce((a, p) => a + pick(p), 0);
    for (const key of ['merchandiseGross', 'discountTotal', 'merchandiseNet', 'shipping', 'shippingDiscount', 'tax', 'grandTotal'] as const) {
      assert.equal(total((p) => p.totals[key]), pricing.totals[key], key);
    }
    assert.equal(total((p) => p.splits.platform), pricing.splits.platform);
    assert.equal(total((p) => p.loyalty.amount), pricing.loyalty.amount);
    for (const entry of pricing.discounts) {
      const shares = parts.flatMap((p) => p.discounts.filter((d) => d.source === entry.source));
      assert.equal(shares.reduce((a, d) => a + d.amount, 0), entry.amount, entry.source);
      for (const share of shares) assert.equal(share.fundedBy, entry.fundedBy);
    }
    for (const part of parts) for (const d of part.discounts) assert.ok(d.amount > 0, 'no zero entries');
  });

  it('a seller with no parcel and no lines has no part: undefined (the route answers 403)', () => {
    assert.equal(scopeOrderForSeller(orderView(pricing), 'seller_q'), undefined);
    assert.equal(sellerHasPart(orderView(null), 'seller_x'), false);
    assert.equal(scopePricing(pricing, 'seller_q'), null);
  });

  it('a seller with lines but no parcel yet (processing or failed) sees its lines; a failure keeps only its own details', () => {
    const failure = {
      code: 'INSUFFICIENT_STOCK',
      message: 'not enough stock for 2 line(s)',
      details: { lines: [{ sku: 'sku-b', requested: 1, available: 0 }, { sku: 'sku-c', requested: 1, available: 0 }] },
    };
    const y = scopeOrderForSeller(orderView(pricing, failure), 'seller_y');
    assert.ok(y);
    assert.deepEqual(y.parcels, []);
    assert.deepEqual(y.failure, { code: 'INSUFFICIENT_STOCK', message: 'the checkout failed: INSUFFICIENT_STOCK', details: { lines: [{ sku: 'sku-b', requested: 1, available: 0 }] } });
    const x = scopeOrderForSeller(orderView(pricing, failure), 'seller_x');
    assert.deepEqual(x?.failure?.details, { lines: [] });
    // Other failures may carry the order's totals (PRICE_CHANGED): a seller gets the code only.
    const changed = scopeOrderForSeller(orderView(pricing, { code: 'PRICE_CHANGED', message: 'the grand total is 7722, not 7000', details: { grandTotal: 7722, expectedGrandTotal: 7000 } }), 'seller_x');
    assert.deepEqual(changed?.failure, { code: 'PRICE_CHANGED', message: 'the checkout failed: PRICE_CHANGED', details: {} });
  });

  it('copies only the fields it knows: a field added to the order view later is not shown to sellers by accident', () => {
    const view = { ...orderView(pricing), grandTotal: 12345, internalNote: 'x' } as OrderView;
    const scoped = scopeOrderForSeller(view, 'seller_x') as unknown as Record<string, unknown>;
    assert.equal(scoped.grandTotal, undefined);
    assert.equal(scoped.internalNote, undefined);
  });
});
