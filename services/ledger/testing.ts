/**
 * Test support for the ledger (used by tests only): the worked example of pricing-spec.md §5 and a
 * fast-check generator of consistent per-seller breakdowns.
 */
import fc from 'fast-check';
import type { PricingInput } from '../../pricing';
import type { EscrowBreakdown, EscrowSellerAmounts } from './types';

/** The cart of pricing-spec.md §5: X $10 electronics, Y $20 clothing, Z $50 books; X2OFF, VOUCHER10, FREESHIP. */
export function workedExampleInput(): PricingInput {
  return {
    currency: 'USD',
    lines: [
      { lineId: 'a', sku: 'sku-a', sellerId: 'seller_x', category: 'electronics', unitPrice: 1000, quantity: 1 },
      { lineId: 'b', sku: 'sku-b', sellerId: 'seller_y', category: 'clothing', unitPrice: 2000, quantity: 1 },
      { lineId: 'c', sku: 'sku-c', sellerId: 'seller_z', category: 'books', unitPrice: 5000, quantity: 1 },
    ],
    vouchers: [
      { code: 'X2OFF', scope: 'seller', sellerId: 'seller_x', category: 'electronics', type: 'fixed', amount: 200, minSpend: 0 },
      { code: 'VOUCHER10', scope: 'platform', type: 'percent', rateBps: 1000, maxDiscount: 15000, minSpend: 0 },
      { code: 'FREESHIP', scope: 'shipping', type: 'free_shipping', maxDiscount: null, minSpend: 0 },
    ],
    shippingFees: { seller_x: 300, seller_y: 300, seller_z: 500 },
    defaultTaxRateBps: 1000,
    defaultCommissionBps: 500,
  };
}

/** Seller ids including awkward ones: a ':' (the business-key separator), a space, prototype names. */
const sellerPool = ['seller_a', 'seller_b', 'seller_c', 'seller:d', 'seller e', '__proto__', 'constructor', '42'];

const amount = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 500 }), fc.integer({ min: 0, max: 50_000_000 }));

/**
 * One seller's amounts, built the way pricing-spec.md §4 defines them, so the identity
 * customerPaid + platformFundedDiscount + shippingDiscount = payout + commission + tax holds.
 */
const sellerAmountsArbitrary: fc.Arbitrary<EscrowSellerAmounts> = fc
  .record({ sellerBase: amount, commissionPart: amount, platformPart: amount, shippingFee: amount, shippingPart: amount, tax: amount })
  .map(({ sellerBase, commissionPart, platformPart, shippingFee, shippingPart, tax }) => {
    const commission = Math.min(commissionPart, sellerBase);
    const platformFundedDiscount = Math.min(platformPart, sellerBase);
    const shippingDiscount = Math.min(shippingPart, shippingFee);
    const merchandiseNet = sellerBase - platformFundedDiscount;
    return {
      customerPaid: merchandiseNet + tax + shippingFee - shippingDiscount,
      platformFundedDiscount,
      shippingDiscount,
      payout: sellerBase - commission + shippingFee,
      commission,
      tax,
    };
  });

export const breakdownArbitrary: fc.Arbitrary<EscrowBreakdown> = fc
  .uniqueArray(fc.tuple(fc.constantFrom(...sellerPool), sellerAmountsArbitrary), { minLength: 1, maxLength: 5, selector: ([id]) => id })
  .chain((sellers) =>
    fc.constantFrom('USD', 'EUR', 'JPY').map((currency) => ({
      currency,
      sellers: Object.fromEntries(sellers),
      totals: { grandTotal: sellers.reduce((sum, [, s]) => sum + s.customerPaid, 0) },
    })),
  );
