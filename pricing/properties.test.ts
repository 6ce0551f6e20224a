// Property-based tests of every invariant of pricing-spec.md §4 over random carts (1–200 lines, up
// to 20 sellers, random promotions, campaigns, vouchers, loyalty and rates, with amounts whose
// products with a rate exceed 2^53), plus a differential test against a naive second
// implementation of the spec.

import assert from 'node:assert/strict';
import fc from 'fast-check';
import { tryPrice } from './engine';
import type { PriceBreakdown, PricingInput } from './index';
import { pricingInputArbitrary } from './test-support/arbitraries';
import { referencePrice } from './test-support/reference';

// Enough runs to hit every voucher path many times while keeping the suite well under its budget.
const numRuns = 300;

function priced(input: PricingInput): PriceBreakdown {
  const result = tryPrice(input);
  if (!result.ok) assert.fail(`generated input was rejected: ${result.error.message}`);
  return result.breakdown;
}

function sum(values: Iterable<number>): bigint {
  let total = 0n;
  for (const value of values) total += BigInt(value);
  return total;
}

/** Every number anywhere in the document, with its path. */
function numbersIn(value: unknown, path = ''): [string, number][] {
  if (typeof value === 'number') return [[path, value]];
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, child]) => numbersIn(child, `${path}.${key}`));
}

/** A deep copy whose objects list their keys in reverse order. */
function reverseKeyOrder(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reverseKeyOrder);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value)
      .reverse()
      .map(([key, child]) => [key, reverseKeyOrder(child)]),
  );
}

/** Sources that are allocated to sellers' shipping rather than to lines. */
function shippingSources(breakdown: PriceBreakdown): Set<string> {
  const lineSources = new Set(breakdown.lines.flatMap((line) => line.discounts.map((discount) => discount.source)));
  return new Set(breakdown.discounts.map((discount) => discount.source).filter((source) => !lineSources.has(source)));
}

describe('pricing/properties (spec §4 invariants over random carts)', function () {
  this.timeout(60_000);

  it('splits add up: sum(splits.sellers) + splits.platform + splits.tax == totals.grandTotal', () => {
    fc.assert(
      fc.property(pricingInputArbitrary, (input) => {
        const { splits, totals } = priced(input);
        assert.equal(sum(Object.values(splits.sellers)) + BigInt(splits.platform) + BigInt(splits.tax), BigInt(totals.grandTotal));
      }),
      { numRuns },
    );
  });

  it('customer payments add up: sum(sellers[*].customerPaid) == totals.grandTotal', () => {
    fc.assert(
      fc.property(pricingInputArbitrary, (input) => {
        const breakdown = priced(input);
        assert.equal(sum(Object.values(breakdown.sellers).map((seller) => seller.customerPaid)), BigInt(breakdown.totals.grandTotal));
      }),
      { numRuns },
    );
  });

  it('nothing is negative: line nets, discounts, grand total (and no zero discount is listed)', () => {
    fc.assert(
      fc.property(pricingInputArbitrary, (input) => {
        const breakdown = priced(input);
        assert.ok(breakdown.totals.grandTotal >= 0);
        for (const line of breakdown.lines) {
          assert.ok(line.net >= 0, `line ${line.lineId} net ${line.net}`);
          for (const discount of line.discounts) assert.ok(discount.amount > 0, `line ${line.lineId} ${discount.source}`);
        }
        for (const discount of breakdown.discounts) assert.ok(discount.amount > 0, discount.source);
        for (const [path, value] of numbersIn(breakdown)) {
          assert.ok(Number.isSafeInteger(value), `${path} = ${value} is not a safe integer`);
          if (path !== '.splits.platform') assert.ok(value >= 0, `${path} = ${value}`);
        }
      }),
      { numRuns },
    );
  });

  it('each source is allocated exactly: line shares (or seller shipping shares) sum to its amount', () => {
    fc.assert(
      fc.property(pricingInputArbitrary, (input) => {
        const breakdown = priced(input);
        const shipping = shippingSources(breakdown);
        assert.ok(shipping.size <= 1);
        const sellerShipping = sum(Object.values(breakdown.sellers).map((seller) => seller.shippingDiscount));
        const sources = breakdown.discounts.map((discount) => discount.source);
        assert.equal(new Set(sources).size, sources.length, 'a source is listed twice');
        for (const discount of breakdown.discounts) {
          const allocated = shipping.has(discount.source)
            ? sellerShipping
            : sum(breakdown.lines.flatMap((line) => line.discounts.filter((entry) => entry.source === discount.source).map((entry) => entry.amount)));
          assert.equal(allocated, BigInt(discount.amount), discount.source);
          for (const line of breakdown.lines) {
            for (const entry of line.discounts) if (entry.source === discount.source) assert.equal(entry.fundedBy, discount.fundedBy);
          }
        }
        if (shipping.size === 0) assert.equal(sellerShipping, 0n);
      }),
      { numRuns },
    );
  });

  it('is deterministic and independent of the key order of its input objects', () => {
    fc.assert(
      fc.property(pricingInputArbitrary, (input) => {
        const first = priced(input);
        assert.deepStrictEqual(priced(input), first);
        assert.deepStrictEqual(priced(reverseKeyOrder(input) as PricingInput), first);
        assert.deepStrictEqual(priced(JSON.parse(JSON.stringify(input)) as PricingInput), first);
      }),
      { numRuns: 100 },
    );
  });

  it('is internally consistent: lines, sellers and totals agree with the definitions of §4', () => {
    fc.assert(
      fc.property(pricingInputArbitrary, (input) => {
        const breakdown = priced(input);
        for (const line of breakdown.lines) {
          assert.equal(BigInt(line.gross) - sum(line.discounts.map((discount) => discount.amount)), BigInt(line.net));
          const sellerFunded = sum(line.discounts.filter((discount) => discount.fundedBy === 'seller').map((discount) => discount.amount));
          assert.equal(BigInt(line.gross) - sellerFunded, BigInt(line.sellerBase));
        }
        for (const [sellerId, seller] of Object.entries(breakdown.sellers)) {
          const lines = breakdown.lines.filter((line) => line.sellerId === sellerId);
          assert.equal(sum(lines.map((line) => line.net)), BigInt(seller.merchandiseNet));
          assert.equal(
            BigInt(seller.merchandiseGross) - BigInt(seller.sellerFundedDiscount) - BigInt(seller.platformFundedDiscount),
            BigInt(seller.merchandiseNet),
          );
          assert.equal(BigInt(seller.merchandiseNet + seller.tax + seller.shippingFee) - BigInt(seller.shippingDiscount), BigInt(seller.customerPaid));
          assert.equal(sum(lines.map((line) => line.sellerBase - line.commission)) + BigInt(seller.shippingFee), BigInt(seller.payout));
          assert.equal(breakdown.splits.sellers[sellerId], seller.payout);
          assert.ok(seller.shippingDiscount <= seller.shippingFee);
        }
        const { totals } = breakdown;
        assert.equal(BigInt(totals.merchandiseGross) - BigInt(totals.discountTotal), BigInt(totals.merchandiseNet));
        assert.equal(BigInt(totals.merchandiseNet) + BigInt(totals.shipping) - BigInt(totals.shippingDiscount) + BigInt(totals.tax), BigInt(totals.grandTotal));
        const codes = (input.vouchers ?? []).map((voucher) => voucher.code);
        const rejectedPositions = breakdown.rejectedVouchers.map((rejected) => codes.indexOf(rejected.code));
        assert.deepEqual(rejectedPositions, [...rejectedPositions].sort((a, b) => a - b), 'rejections are not in input order');
      }),
      { numRuns },
    );
  });

  it('agrees to the minor unit with an independent, naive implementation of the spec', () => {
    fc.assert(
      fc.property(pricingInputArbitrary, (input) => {
        assert.deepStrictEqual(priced(input), referencePrice(input));
      }),
      { numRuns: 500 },
    );
  });

  it('rejects a random bad quantity at its exact field path', () => {
    const badQuantity = fc.oneof(fc.constant(0), fc.integer({ min: -1000, max: -1 }), fc.constant(1.5), fc.constant('2'), fc.constant(null));
    fc.assert(
      fc.property(pricingInputArbitrary, fc.nat(), badQuantity, (input, position, quantity) => {
        const index = position % input.lines.length;
        const lines = input.lines.map((line, lineIndex) => (lineIndex === index ? { ...line, quantity } : line));
        const result = tryPrice({ ...input, lines });
        assert.equal(result.ok, false);
        if (!result.ok) assert.deepEqual(result.error.issues.map((issue) => issue.path), [`lines[${index}].quantity`]);
      }),
      { numRuns: 50 },
    );
  });
});
