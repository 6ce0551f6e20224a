import assert from 'node:assert/strict';
import type { PricingContext } from './context';
import { tryPrice } from './engine';
import { price, type PriceBreakdown, type PricingInput } from './index';
import { pricingRules, type PricingRule } from './rules';
import { workedExampleInput } from './test-support/fixtures';

/** The complete breakdown of the worked example (spec §5), to the cent. */
const workedExampleBreakdown: PriceBreakdown = {
  currency: 'USD',
  lines: [
    {
      lineId: 'a',
      sku: 'sku-a',
      sellerId: 'seller_x',
      gross: 1000,
      discounts: [
        { source: 'voucher:X2OFF', amount: 200, fundedBy: 'seller' },
        { source: 'voucher:VOUCHER10', amount: 80, fundedBy: 'platform' },
      ],
      net: 720,
      tax: 72,
      sellerBase: 800,
      commission: 40,
    },
    {
      lineId: 'b',
      sku: 'sku-b',
      sellerId: 'seller_y',
      gross: 2000,
      discounts: [{ source: 'voucher:VOUCHER10', amount: 200, fundedBy: 'platform' }],
      net: 1800,
      tax: 180,
      sellerBase: 2000,
      commission: 100,
    },
    {
      lineId: 'c',
      sku: 'sku-c',
      sellerId: 'seller_z',
      gross: 5000,
      discounts: [{ source: 'voucher:VOUCHER10', amount: 500, fundedBy: 'platform' }],
      net: 4500,
      tax: 450,
      sellerBase: 5000,
      commission: 250,
    },
  ],
  discounts: [
    { source: 'voucher:X2OFF', amount: 200, fundedBy: 'seller' },
    { source: 'voucher:VOUCHER10', amount: 780, fundedBy: 'platform' },
    { source: 'voucher:FREESHIP', amount: 1100, fundedBy: 'platform' },
  ],
  rejectedVouchers: [],
  loyalty: { pointsRedeemed: 0, amount: 0 },
  sellers: {
    seller_x: {
      merchandiseGross: 1000,
      sellerFundedDiscount: 200,
      platformFundedDiscount: 80,
      merchandiseNet: 720,
      shippingFee: 300,
      shippingDiscount: 300,
      tax: 72,
      commission: 40,
      customerPaid: 792,
      payout: 1060,
    },
    seller_y: {
      merchandiseGross: 2000,
      sellerFundedDiscount: 0,
      platformFundedDiscount: 200,
      merchandiseNet: 1800,
      shippingFee: 300,
      shippingDiscount: 300,
      tax: 180,
      commission: 100,
      customerPaid: 1980,
      payout: 2200,
    },
    seller_z: {
      merchandiseGross: 5000,
      sellerFundedDiscount: 0,
      platformFundedDiscount: 500,
      merchandiseNet: 4500,
      shippingFee: 500,
      shippingDiscount: 500,
      tax: 450,
      commission: 250,
      customerPaid: 4950,
      payout: 5250,
    },
  },
  totals: { merchandiseGross: 8000, discountTotal: 980, merchandiseNet: 7020, shipping: 1100, shippingDiscount: 1100, tax: 702, grandTotal: 7722 },
  splits: { sellers: { seller_x: 1060, seller_y: 2200, seller_z: 5250 }, platform: -1490, tax: 702 },
};

/** A zero-decimal currency, hand-computed in the comments of the test below. */
const yenInput: PricingInput = {
  currency: 'JPY',
  lines: [
    { lineId: 'a', sku: 'tea', sellerId: 'tokyo', category: 'food', unitPrice: 1234, quantity: 3 },
    { lineId: 'b', sku: 'manga', sellerId: 'osaka', category: 'books', unitPrice: 999, quantity: 1 },
  ],
  sellerPromotions: [{ id: 'tea10', sellerId: 'tokyo', type: 'percent', rateBps: 1000 }],
  vouchers: [
    { code: 'SITE5', scope: 'platform', type: 'percent', rateBps: 500 },
    { code: 'SHIP600', scope: 'shipping', type: 'fixed', amount: 600 },
  ],
  shippingFees: { tokyo: 500, osaka: 300 },
  loyalty: { points: 100, minorUnitsPerPoint: 1, maxRedeemBps: 200 },
  taxRatesBps: { food: 800, books: 0 },
  defaultTaxRateBps: 1000,
  commissionRatesBps: { books: 1500 },
  defaultCommissionBps: 1000,
};

/** A three-decimal currency with one rejection of each kind, hand-computed below. */
const dinarInput: PricingInput = {
  currency: 'BHD',
  lines: [
    { lineId: 'a', sku: 'oud', sellerId: 'manama', category: 'perfume', unitPrice: 12_345, quantity: 2 },
    { lineId: 'b', sku: 'musk', sellerId: 'muharraq', category: 'perfume', unitPrice: 7005, quantity: 1 },
  ],
  categoryCampaigns: [{ id: 'PERFUME', category: 'perfume', sellerId: null, type: 'percent', rateBps: 750, maxDiscount: 2000, fundedBy: 'seller', minSpend: 0 }],
  vouchers: [
    { code: 'MUH10', scope: 'seller', sellerId: 'muharraq', type: 'percent', rateBps: 1000, minSpend: 7000 },
    { code: 'P1', scope: 'platform', type: 'fixed', amount: 1000 },
    { code: 'MANBOOKS', scope: 'seller', sellerId: 'manama', category: 'books', type: 'fixed', amount: 500 },
    { code: 'P2', scope: 'platform', type: 'fixed', amount: 1000 },
    { code: 'SHIP', scope: 'shipping', type: 'free_shipping', maxDiscount: 1000 },
  ],
  shippingFees: { manama: 1500 },
  defaultTaxRateBps: 1000,
  defaultCommissionBps: 800,
};

describe('pricing/engine', () => {
  it('prices the worked example of spec §5 to the cent', () => {
    assert.deepStrictEqual(price(workedExampleInput()), workedExampleBreakdown);
  });

  it('prices a zero-decimal currency (JPY) exactly', () => {
    const breakdown = price(yenInput);
    // Step 1: 3702 x 10 % = 370.2 -> 370; a = 3332.
    // Step 3: 5 % of 4331 = 216.55 -> 217, over 3332/999: floors 166/50, remainders 4098/233 -> 167/50.
    // Step 4: 600 of 800 over 500/300 = 375/225 exactly.
    // Step 5: cap = R(4114, 200) = 82.28 -> 82 points; over 3165/949: floors 63/18, remainders
    //         348/3766 -> 63/19. Nets 3102 and 930.
    // Step 6: 3102 x 8 % = 248.16 -> 248; books 0 %.
    // Step 7: 3332 x 10 % = 333.2 -> 333; 999 x 15 % = 149.85 -> 150.
    assert.deepEqual(
      breakdown.lines.map((line) => [line.net, line.tax, line.sellerBase, line.commission]),
      [
        [3102, 248, 3332, 333],
        [930, 0, 999, 150],
      ],
    );
    assert.deepEqual(breakdown.loyalty, { pointsRedeemed: 82, amount: 82 });
    assert.deepEqual(breakdown.sellers.tokyo, {
      merchandiseGross: 3702,
      sellerFundedDiscount: 370,
      platformFundedDiscount: 230,
      merchandiseNet: 3102,
      shippingFee: 500,
      shippingDiscount: 375,
      tax: 248,
      commission: 333,
      customerPaid: 3475,
      payout: 3499,
    });
    assert.deepEqual(breakdown.sellers.osaka, {
      merchandiseGross: 999,
      sellerFundedDiscount: 0,
      platformFundedDiscount: 69,
      merchandiseNet: 930,
      shippingFee: 300,
      shippingDiscount: 225,
      tax: 0,
      commission: 150,
      customerPaid: 1005,
      payout: 1149,
    });
    assert.deepEqual(breakdown.totals, {
      merchandiseGross: 4701,
      discountTotal: 669,
      merchandiseNet: 4032,
      shipping: 800,
      shippingDiscount: 600,
      tax: 248,
      grandTotal: 4480,
    });
    assert.deepEqual(breakdown.splits, { sellers: { tokyo: 3499, osaka: 1149 }, platform: -416, tax: 248 });
  });

  it('prices a three-decimal currency (BHD) exactly, with every rejection reason', () => {
    const breakdown = price(dinarInput);
    // Step 2: 7.5 % of 31695 = 2377.125 -> 2377, capped at 2000; over 24690/7005: floors 1557/442,
    //         remainders 30885/810 -> 1558/442. MUH10: base 6563 < 7000. MANBOOKS: no books.
    // Step 3: 1000 over 23132/6563: floors 778/221, remainders 29290/405 -> 779/221; P2 stacks.
    // Step 4: min(1500, 1000) = 1000, all on manama (muharraq ships free).
    // Step 6: 22353 x 10 % = 2235.3 -> 2235; 6342 -> 634.2 -> 634.
    // Step 7: 23132 x 8 % = 1850.56 -> 1851; 6563 x 8 % = 525.04 -> 525.
    assert.deepEqual(breakdown.rejectedVouchers, [
      { code: 'MUH10', reason: 'MIN_SPEND_NOT_MET' },
      { code: 'MANBOOKS', reason: 'NOT_APPLICABLE' },
      { code: 'P2', reason: 'STACKING_NOT_ALLOWED' },
    ]);
    assert.deepEqual(breakdown.discounts, [
      { source: 'campaign:PERFUME', amount: 2000, fundedBy: 'seller' },
      { source: 'voucher:P1', amount: 1000, fundedBy: 'platform' },
      { source: 'voucher:SHIP', amount: 1000, fundedBy: 'platform' },
    ]);
    assert.deepEqual(
      breakdown.lines.map((line) => [line.net, line.tax, line.sellerBase, line.commission]),
      [
        [22_353, 2235, 23_132, 1851],
        [6342, 634, 6563, 525],
      ],
    );
    assert.deepEqual(
      Object.values(breakdown.sellers).map((seller) => [seller.customerPaid, seller.payout, seller.shippingDiscount]),
      [
        [25_088, 22_781, 1000],
        [6976, 6038, 0],
      ],
    );
    assert.deepEqual(breakdown.totals, {
      merchandiseGross: 31_695,
      discountTotal: 3000,
      merchandiseNet: 28_695,
      shipping: 1500,
      shippingDiscount: 1000,
      tax: 2869,
      grandTotal: 32_064,
    });
    assert.deepEqual(breakdown.splits, { sellers: { manama: 22_781, muharraq: 6038 }, platform: 376, tax: 2869 });
  });

  it('lists rejected vouchers in input order, whatever step rejected them', () => {
    const input = workedExampleInput();
    const vouchers = [
      { code: 'SHIP2', scope: 'shipping', type: 'fixed', amount: 1 } as const,
      ...(input.vouchers ?? []),
      { code: 'X-AGAIN', scope: 'seller', sellerId: 'seller_x', type: 'fixed', amount: 1 } as const,
    ];
    const breakdown = price({ ...input, vouchers });
    assert.deepEqual(breakdown.rejectedVouchers, [
      { code: 'FREESHIP', reason: 'STACKING_NOT_ALLOWED' },
      { code: 'X-AGAIN', reason: 'STACKING_NOT_ALLOWED' },
    ]);
  });

  it('prices an empty cart to zero, with its vouchers not applicable', () => {
    const breakdown = price({ ...workedExampleInput(), lines: [], loyalty: { points: 50, minorUnitsPerPoint: 1 } });
    assert.deepEqual(breakdown.lines, []);
    assert.deepEqual(breakdown.sellers, {});
    assert.deepEqual(breakdown.discounts, []);
    assert.deepEqual(breakdown.rejectedVouchers.map((rejected) => rejected.reason), ['NOT_APPLICABLE', 'NOT_APPLICABLE', 'NOT_APPLICABLE']);
    assert.deepEqual(breakdown.totals, { merchandiseGross: 0, discountTotal: 0, merchandiseNet: 0, shipping: 0, shippingDiscount: 0, tax: 0, grandTotal: 0 });
    assert.deepEqual(breakdown.splits, { sellers: {}, platform: 0, tax: 0 });
    assert.deepEqual(breakdown.loyalty, { pointsRedeemed: 0, amount: 0 });
  });

  it('is deterministic and leaves its input untouched', () => {
    const input = workedExampleInput();
    const snapshot = structuredClone(input);
    assert.deepStrictEqual(price(input), price(input));
    assert.deepStrictEqual(input, snapshot);
  });

  it('keeps seller order by first appearance and handles awkward seller ids as plain keys', () => {
    const input: PricingInput = {
      currency: 'USD',
      lines: [
        { lineId: '1', sku: 'a', sellerId: '__proto__', category: 'toString', unitPrice: 100, quantity: 1 },
        { lineId: '2', sku: 'b', sellerId: 'constructor', category: 'x', unitPrice: 200, quantity: 1 },
      ],
      shippingFees: Object.fromEntries([['__proto__', 50]]),
    };
    const breakdown = price(input);
    assert.deepEqual(Object.keys(breakdown.sellers), ['__proto__', 'constructor']);
    assert.equal(Object.getPrototypeOf(breakdown.sellers), Object.prototype);
    const sellers = new Map(Object.entries(breakdown.sellers));
    assert.equal(sellers.get('__proto__')?.shippingFee, 50);
    assert.equal(sellers.get('constructor')?.shippingFee, 0);
    const splits = JSON.parse(JSON.stringify(breakdown.splits.sellers)) as Record<string, number>;
    assert.deepEqual(Object.entries(splits), [
      ['__proto__', 150],
      ['constructor', 200],
    ]);
    assert.equal(breakdown.totals.grandTotal, 350);
  });

  it('runs a chain with an extra rule without touching the others', () => {
    // A hypothetical "bulk buyer" rule: 1 % platform-funded off every line, inserted before tax.
    const bulkRule: PricingRule = {
      name: 'bulk-buyer',
      apply(context: PricingContext) {
        for (const lineState of context.lines) {
          const amountMinor = lineState.netMinor / 100n;
          if (amountMinor === 0n) continue;
          lineState.netMinor -= amountMinor;
          lineState.platformFundedMinor += amountMinor;
          lineState.discounts.push({ source: 'bulk', amountMinor, fundedBy: 'platform' });
          context.discounts.push({ source: 'bulk', amountMinor, fundedBy: 'platform', target: 'merchandise' });
        }
      },
    };
    const taxIndex = pricingRules.findIndex((rule) => rule.name === 'tax');
    const rules = [...pricingRules.slice(0, taxIndex), bulkRule, ...pricingRules.slice(taxIndex)];
    const result = tryPrice(workedExampleInput(), rules);
    assert.ok(result.ok);
    // 720 -> 713, 1800 -> 1782, 4500 -> 4455; tax 71 + 178 + 446 (rounded half up).
    assert.deepEqual(result.breakdown.lines.map((line) => line.net), [713, 1782, 4455]);
    assert.equal(result.breakdown.totals.tax, 71 + 178 + 446);
    assert.equal(result.breakdown.totals.grandTotal, 713 + 1782 + 4455 + 71 + 178 + 446);
  });

  it('names the rules of the chain in the order of the spec', () => {
    assert.deepEqual(
      pricingRules.map((rule) => rule.name),
      ['seller-promotions', 'category-campaigns', 'seller-vouchers', 'platform-voucher', 'shipping', 'loyalty', 'tax', 'commission'],
    );
  });
});
