// fast-check generators of valid pricing inputs: 1–200 lines, up to 20 sellers, random seller
// promotions, category campaigns, vouchers of every scope and type, shipping fees, loyalty and
// rates. Three amount scales are mixed: tiny amounts (many ties for rule A), everyday amounts and
// huge ones where `amount * rate` is far beyond 2^53. Identifiers include awkward keys such as
// "__proto__", "constructor" and integer-like strings, which trip naive map handling.

import fc from 'fast-check';
import type {
  CategoryCampaignInput,
  LoyaltyInput,
  PricingInput,
  PricingLineInput,
  SellerPromotionInput,
  VoucherInput,
} from '../types';

const sellerPool = ['s0', 's1', 's2', 's3', 's4', 's5', 's6', 's7', 's8', 's9', 's10', 's11', 's12', 's13', 's14', 's15', '__proto__', 'constructor', '42', 'seller y'];
const categoryPool = ['books', 'toys', 'food', 'electronics', 'constructor', '__proto__', '7'];
const skuPool = Array.from({ length: 12 }, (_, index) => `sku-${index}`);

/** The largest unit price of each scale; quantities stay small enough that the gross fits. */
interface Scale {
  readonly unitPriceMax: number;
  readonly quantityMax: number;
}

const scales: readonly Scale[] = [
  { unitPriceMax: 20, quantityMax: 3 },
  { unitPriceMax: 100_000, quantityMax: 10 },
  // 200 lines x 1e10 x 1000 = 2e15: the merchandise stays below 2^53 / 4 while 1e13 x 10000 bps
  // = 1e17 is far beyond 2^53, so exact intermediate arithmetic is exercised.
  { unitPriceMax: 10_000_000_000, quantityMax: 1_000 },
];

const rateBps = fc.oneof(fc.constantFrom(0, 1, 4999, 5000, 5001, 9999, 10_000), fc.integer({ min: 0, max: 10_000 }));

/** Absent, null, or (most often) a value: the three ways an optional field can arrive. */
function optional<T>(arbitrary: fc.Arbitrary<T>): fc.Arbitrary<T | null | undefined> {
  return fc.oneof(
    { arbitrary: fc.constant(undefined), weight: 1 },
    { arbitrary: fc.constant(null), weight: 1 },
    { arbitrary, weight: 4 },
  );
}

/** Removes keys whose value is undefined, so "absent" really is absent. */
function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as T;
}

function amountUpTo(max: number): fc.Arbitrary<number> {
  return fc.oneof(fc.constant(0), fc.integer({ min: 0, max }), fc.integer({ min: 0, max: Math.max(0, Math.floor(max / 100)) }));
}

function lineArbitrary(scale: Scale, sellers: readonly string[]): fc.Arbitrary<Omit<PricingLineInput, 'lineId'>> {
  return fc.record({
    sku: fc.constantFrom(...skuPool),
    sellerId: fc.constantFrom(...sellers),
    category: fc.constantFrom(...categoryPool),
    unitPrice: amountUpTo(scale.unitPriceMax),
    quantity: fc.integer({ min: 1, max: scale.quantityMax }),
  });
}

function promotionArbitrary(scale: Scale, sellers: readonly string[]): fc.Arbitrary<Omit<SellerPromotionInput, 'id'>> {
  const base = {
    sellerId: fc.constantFrom(...sellers),
    skus: fc.option(fc.uniqueArray(fc.constantFrom(...skuPool), { maxLength: 4 }), { nil: undefined }),
  };
  return fc.oneof(
    fc.record({ ...base, type: fc.constant('percent' as const), rateBps }),
    fc.record({ ...base, type: fc.constant('fixed_per_unit' as const), amount: amountUpTo(scale.unitPriceMax) }),
  );
}

function termsArbitrary(maxAmount: number) {
  return fc.oneof(
    fc.record({ type: fc.constant('percent' as const), rateBps, maxDiscount: optional(amountUpTo(maxAmount)) }),
    fc.record({ type: fc.constant('fixed' as const), amount: amountUpTo(maxAmount) }),
  );
}

function campaignArbitrary(scale: Scale, sellers: readonly string[]): fc.Arbitrary<Omit<CategoryCampaignInput, 'id'>> {
  const spend = scale.unitPriceMax * scale.quantityMax * 3;
  return fc
    .tuple(
      fc.record({
        category: optional(fc.constantFrom(...categoryPool)),
        sellerId: optional(fc.constantFrom(...sellers)),
        minSpend: optional(amountUpTo(spend)),
        fundedBy: fc.constantFrom('seller' as const, 'platform' as const),
      }),
      termsArbitrary(scale.unitPriceMax * 2),
    )
    .map(([filter, terms]) => withoutUndefined({ ...filter, ...terms }));
}

function voucherArbitrary(scale: Scale, sellers: readonly string[]): fc.Arbitrary<Omit<VoucherInput, 'code'>> {
  const spend = scale.unitPriceMax * scale.quantityMax * 3;
  const minSpend = optional(amountUpTo(spend));
  const seller = fc
    .tuple(fc.record({ sellerId: fc.constantFrom(...sellers), category: optional(fc.constantFrom(...categoryPool)), minSpend }), termsArbitrary(scale.unitPriceMax * 2))
    .map(([target, terms]) => withoutUndefined({ scope: 'seller' as const, ...target, ...terms }));
  const platform = fc
    .tuple(fc.record({ category: optional(fc.constantFrom(...categoryPool)), minSpend }), termsArbitrary(scale.unitPriceMax * 4))
    .map(([target, terms]) => withoutUndefined({ scope: 'platform' as const, ...target, ...terms }));
  const shipping = fc
    .tuple(
      minSpend,
      fc.oneof(
        fc.record({ type: fc.constant('free_shipping' as const), maxDiscount: optional(amountUpTo(scale.unitPriceMax)) }),
        fc.record({ type: fc.constant('fixed' as const), amount: amountUpTo(scale.unitPriceMax) }),
      ),
    )
    .map(([spendMin, terms]) => withoutUndefined({ scope: 'shipping' as const, minSpend: spendMin, ...terms }));
  return fc.oneof(seller, platform, shipping);
}

function loyaltyArbitrary(scale: Scale): fc.Arbitrary<LoyaltyInput | null | undefined> {
  return optional(
    fc
      .record({
        points: fc.oneof(fc.integer({ min: 0, max: 1_000 }), amountUpTo(scale.unitPriceMax * scale.quantityMax)),
        minorUnitsPerPoint: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 1_000 })),
        maxRedeemBps: optional(rateBps),
      })
      .map(withoutUndefined),
  );
}

function rateMap(keys: readonly string[]): fc.Arbitrary<Record<string, number> | null | undefined> {
  return optional(fc.dictionary(fc.constantFrom(...keys), rateBps, { maxKeys: keys.length }));
}

/** Fees for most of the cart's sellers, sometimes one for a seller without lines. */
function feeMap(scale: Scale, sellers: readonly string[]): fc.Arbitrary<Record<string, number> | null | undefined> {
  const fee = amountUpTo(scale.unitPriceMax);
  const entries = fc.tuple(...[...sellers, 'absent-seller'].map((sellerId) => fc.option(fc.tuple(fc.constant(sellerId), fee), { freq: 4 })));
  return optional(entries.map((pairs) => Object.fromEntries(pairs.filter((pair) => pair !== null))));
}

/** Mostly short carts, often long ones up to the 200-line limit of the tests. */
function lineList(scale: Scale, sellers: readonly string[]) {
  const line = lineArbitrary(scale, sellers);
  return fc.oneof(fc.array(line, { minLength: 1, maxLength: 200 }), fc.array(line, { minLength: 1, maxLength: 200, size: 'max' }));
}

function cartForScale(scale: Scale, sellers: readonly string[]): fc.Arbitrary<PricingInput> {
  return fc
    .record({
      lines: lineList(scale, sellers),
      sellerPromotions: fc.array(promotionArbitrary(scale, sellers), { maxLength: 8 }),
      categoryCampaigns: fc.array(campaignArbitrary(scale, sellers), { maxLength: 5 }),
      vouchers: fc.array(voucherArbitrary(scale, sellers), { maxLength: 8 }),
      shippingFees: feeMap(scale, sellers),
      loyalty: loyaltyArbitrary(scale),
      taxRatesBps: rateMap(categoryPool),
      defaultTaxRateBps: optional(rateBps),
      commissionRatesBps: rateMap(categoryPool),
      defaultCommissionBps: optional(rateBps),
      currency: fc.constantFrom('USD', 'JPY', 'BHD', 'EUR'),
    })
    .map((cart) =>
      withoutUndefined({
        ...cart,
        // Identifiers are made unique by position, as validation requires.
        lines: cart.lines.map((line, index) => ({ lineId: `L${index}`, ...line })),
        sellerPromotions: cart.sellerPromotions.map((promotion, index) => ({ id: `P${index}`, ...promotion }) as SellerPromotionInput),
        categoryCampaigns: cart.categoryCampaigns.map((campaign, index) => ({ id: `C${index}`, ...campaign }) as CategoryCampaignInput),
        vouchers: cart.vouchers.map((voucher, index) => ({ code: `V${index}`, ...voucher }) as VoucherInput),
      }),
    );
}

/** A valid pricing input with 1–200 lines and up to 20 sellers. */
export const pricingInputArbitrary: fc.Arbitrary<PricingInput> = fc
  .tuple(fc.constantFrom(...scales), fc.shuffledSubarray(sellerPool, { minLength: 1, maxLength: 20 }))
  .chain(([scale, sellers]) => cartForScale(scale, sellers));
