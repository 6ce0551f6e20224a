// Inputs shared by the pricing tests: the worked example of pricing-spec.md §5 and small builders
// that fill in the fields a test does not care about.

import { createContext, type PricingContext } from '../context';
import type { PricingRule } from '../rules';
import type { PricingInput, PricingLineInput } from '../types';
import { findInputIssues } from '../validate';

/** The worked example of spec §5, exactly as printed there. */
export function workedExampleInput(): PricingInput {
  return {
    currency: 'USD',
    lines: [
      { lineId: 'a', sku: 'sku-a', sellerId: 'seller_x', category: 'electronics', unitPrice: 1000, quantity: 1 },
      { lineId: 'b', sku: 'sku-b', sellerId: 'seller_y', category: 'clothing', unitPrice: 2000, quantity: 1 },
      { lineId: 'c', sku: 'sku-c', sellerId: 'seller_z', category: 'books', unitPrice: 5000, quantity: 1 },
    ],
    sellerPromotions: [],
    categoryCampaigns: [],
    vouchers: [
      { code: 'X2OFF', scope: 'seller', sellerId: 'seller_x', category: 'electronics', type: 'fixed', amount: 200, minSpend: 0 },
      { code: 'VOUCHER10', scope: 'platform', type: 'percent', rateBps: 1000, maxDiscount: 15000, minSpend: 0 },
      { code: 'FREESHIP', scope: 'shipping', type: 'free_shipping', maxDiscount: null, minSpend: 0 },
    ],
    shippingFees: { seller_x: 300, seller_y: 300, seller_z: 500 },
    loyalty: { points: 0, minorUnitsPerPoint: 1, maxRedeemBps: 1000 },
    taxRatesBps: {},
    defaultTaxRateBps: 1000,
    commissionRatesBps: {},
    defaultCommissionBps: 500,
  };
}

/** A line with defaults for everything the caller leaves out. */
export function makeLine(fields: Partial<PricingLineInput> & { readonly lineId: string }): PricingLineInput {
  return { sku: `sku-${fields.lineId}`, sellerId: 's1', category: 'general', unitPrice: 1000, quantity: 1, ...fields };
}

/** A USD cart with defaults for everything the caller leaves out. */
export function makeCart(fields: Partial<PricingInput> & { readonly lines: readonly PricingLineInput[] }): PricingInput {
  return { currency: 'USD', ...fields };
}

/** A fresh context for a valid input, after running `rules` in order. Fails on invalid input. */
export function contextAfter(input: PricingInput, rules: readonly PricingRule[]): PricingContext {
  const issues = findInputIssues(input);
  if (issues.length > 0) throw new Error(`test input is invalid: ${JSON.stringify(issues)}`);
  const context = createContext(input);
  for (const rule of rules) rule.apply(context);
  return context;
}

/** The line nets of a context, as numbers, in line order. */
export function nets(context: PricingContext): number[] {
  return context.lines.map((lineState) => Number(lineState.netMinor));
}

/** The applied discounts of a context as plain numbers, for deepEqual. */
export function appliedDiscounts(context: PricingContext): { source: string; amount: number; fundedBy: string }[] {
  return context.discounts.map((discount) => ({
    source: discount.source,
    amount: Number(discount.amountMinor),
    fundedBy: discount.fundedBy,
  }));
}

/** The rejected vouchers of a context as [index, reason] pairs in input order. */
export function rejections(context: PricingContext): [number, string][] {
  return [...context.rejectedVouchers.entries()].sort(([left], [right]) => left - right);
}
