// Turns the final pricing state into the output document of pricing-spec.md §4. Sums are taken in
// BigInt, the balance invariants are asserted, and only then are amounts converted to JSON
// numbers, each checked against the 2^53 - 1 limit.

import type { AppliedDiscount, LineDiscount, LineState, PricingContext, SellerState } from './context';
import { amountMinorMax } from './money';
import type {
  DiscountEntry,
  LineBreakdown,
  PriceBreakdown,
  PriceTotals,
  RejectedVoucher,
  SellerBreakdown,
} from './types';

/** An output amount would not be exact as a JSON number; the engine reports it as bad input. */
export class AmountLimitError extends Error {
  constructor(
    readonly field: string,
    readonly valueMinor: bigint,
  ) {
    super(`${field} would be ${valueMinor}, beyond the amount limit ±${amountMinorMax}`);
    this.name = 'AmountLimitError';
  }
}

// Read once: an imported binding compiled to CommonJS or bundled by webpack is a getter, and this
// limit is checked for every amount of every line.
const amountMax = amountMinorMax;
const amountMin = -amountMinorMax;

function toAmount(valueMinor: bigint, field: string): number {
  if (valueMinor > amountMax || valueMinor < amountMin) throw new AmountLimitError(field, valueMinor);
  return Number(valueMinor);
}

function assertInvariant(condition: boolean, message: string): void {
  if (!condition) throw new Error(`pricing invariant violated: ${message}`);
}

/** Per-seller sums, exact. */
interface SellerSums {
  readonly seller: SellerState;
  readonly grossMinor: bigint;
  readonly sellerFundedMinor: bigint;
  readonly platformFundedMinor: bigint;
  readonly netMinor: bigint;
  readonly taxMinor: bigint;
  readonly commissionMinor: bigint;
  readonly customerPaidMinor: bigint;
  readonly payoutMinor: bigint;
}

function sumSeller(seller: SellerState): SellerSums {
  let grossMinor = 0n;
  let sellerFundedMinor = 0n;
  let platformFundedMinor = 0n;
  let netMinor = 0n;
  let taxMinor = 0n;
  let commissionMinor = 0n;
  let sellerBaseMinor = 0n;
  for (const lineState of seller.lines) {
    grossMinor += lineState.grossMinor;
    sellerFundedMinor += lineState.sellerFundedMinor;
    platformFundedMinor += lineState.platformFundedMinor;
    netMinor += lineState.netMinor;
    taxMinor += lineState.taxMinor;
    commissionMinor += lineState.commissionMinor;
    sellerBaseMinor += lineState.sellerBaseMinor;
  }
  const customerPaidMinor = netMinor + taxMinor + seller.shippingFeeMinor - seller.shippingDiscountMinor;
  // The seller keeps the full shipping fee: a shipping discount is the platform's subsidy.
  const payoutMinor = sellerBaseMinor - commissionMinor + seller.shippingFeeMinor;
  return {
    seller,
    grossMinor,
    sellerFundedMinor,
    platformFundedMinor,
    netMinor,
    taxMinor,
    commissionMinor,
    customerPaidMinor,
    payoutMinor,
  };
}

/** Order-level sums, exact. */
interface OrderSums {
  readonly grossMinor: bigint;
  readonly merchandiseDiscountMinor: bigint;
  readonly netMinor: bigint;
  readonly shippingMinor: bigint;
  readonly shippingDiscountMinor: bigint;
  readonly taxMinor: bigint;
  readonly commissionMinor: bigint;
  readonly platformFundedMinor: bigint;
  readonly grandTotalMinor: bigint;
}

function sumOrder(sellers: readonly SellerSums[], discounts: readonly AppliedDiscount[]): OrderSums {
  const total = (pick: (sums: SellerSums) => bigint): bigint => sellers.reduce((sum, sums) => sum + pick(sums), 0n);
  const netMinor = total((sums) => sums.netMinor);
  const shippingMinor = total((sums) => sums.seller.shippingFeeMinor);
  const shippingDiscountMinor = total((sums) => sums.seller.shippingDiscountMinor);
  const taxMinor = total((sums) => sums.taxMinor);
  let merchandiseDiscountMinor = 0n;
  let platformFundedMinor = 0n;
  for (const discount of discounts) {
    if (discount.target === 'merchandise') merchandiseDiscountMinor += discount.amountMinor;
    if (discount.fundedBy === 'platform') platformFundedMinor += discount.amountMinor;
  }
  return {
    grossMinor: total((sums) => sums.grossMinor),
    merchandiseDiscountMinor,
    netMinor,
    shippingMinor,
    shippingDiscountMinor,
    taxMinor,
    commissionMinor: total((sums) => sums.commissionMinor),
    platformFundedMinor,
    grandTotalMinor: netMinor + shippingMinor - shippingDiscountMinor + taxMinor,
  };
}

/** The balance checks of spec §4, asserted on every run: a failure here is a bug, not bad input. */
function assertBalanced(sellers: readonly SellerSums[], order: OrderSums, platformMinor: bigint): void {
  const payoutsMinor = sellers.reduce((sum, sums) => sum + sums.payoutMinor, 0n);
  const customerPaidMinor = sellers.reduce((sum, sums) => sum + sums.customerPaidMinor, 0n);
  assertInvariant(payoutsMinor + platformMinor + order.taxMinor === order.grandTotalMinor, 'splits do not add up to the grand total');
  assertInvariant(customerPaidMinor === order.grandTotalMinor, 'customer payments do not add up to the grand total');
  assertInvariant(order.grossMinor - order.merchandiseDiscountMinor === order.netMinor, 'discounts do not explain the net');
  assertInvariant(order.shippingDiscountMinor <= order.shippingMinor, 'shipping discount exceeds shipping');
}

function toDiscountEntry(discount: LineDiscount | AppliedDiscount, field: string): DiscountEntry {
  return { source: discount.source, amount: toAmount(discount.amountMinor, field), fundedBy: discount.fundedBy };
}

function toLineBreakdown(lineState: LineState): LineBreakdown {
  // Every line amount is at most the line's gross, which validation bounds; the checks stay as a
  // guard, with a fixed field name so that no string is built per amount on the hot path.
  const field = 'a line amount';
  return {
    lineId: lineState.line.lineId,
    sku: lineState.line.sku,
    sellerId: lineState.line.sellerId,
    gross: toAmount(lineState.grossMinor, field),
    discounts: lineState.discounts.map((discount) => toDiscountEntry(discount, field)),
    net: toAmount(lineState.netMinor, field),
    tax: toAmount(lineState.taxMinor, field),
    sellerBase: toAmount(lineState.sellerBaseMinor, field),
    commission: toAmount(lineState.commissionMinor, field),
  };
}

function toSellerBreakdown(sums: SellerSums): SellerBreakdown {
  const field = `sellers[${JSON.stringify(sums.seller.sellerId)}]`;
  return {
    merchandiseGross: toAmount(sums.grossMinor, `${field}.merchandiseGross`),
    sellerFundedDiscount: toAmount(sums.sellerFundedMinor, `${field}.sellerFundedDiscount`),
    platformFundedDiscount: toAmount(sums.platformFundedMinor, `${field}.platformFundedDiscount`),
    merchandiseNet: toAmount(sums.netMinor, `${field}.merchandiseNet`),
    shippingFee: toAmount(sums.seller.shippingFeeMinor, `${field}.shippingFee`),
    shippingDiscount: toAmount(sums.seller.shippingDiscountMinor, `${field}.shippingDiscount`),
    tax: toAmount(sums.taxMinor, `${field}.tax`),
    commission: toAmount(sums.commissionMinor, `${field}.commission`),
    customerPaid: toAmount(sums.customerPaidMinor, `${field}.customerPaid`),
    payout: toAmount(sums.payoutMinor, `${field}.payout`),
  };
}

function toTotals(order: OrderSums): PriceTotals {
  return {
    merchandiseGross: toAmount(order.grossMinor, 'totals.merchandiseGross'),
    discountTotal: toAmount(order.merchandiseDiscountMinor, 'totals.discountTotal'),
    merchandiseNet: toAmount(order.netMinor, 'totals.merchandiseNet'),
    shipping: toAmount(order.shippingMinor, 'totals.shipping'),
    shippingDiscount: toAmount(order.shippingDiscountMinor, 'totals.shippingDiscount'),
    tax: toAmount(order.taxMinor, 'totals.tax'),
    grandTotal: toAmount(order.grandTotalMinor, 'totals.grandTotal'),
  };
}

function toRejectedVouchers(context: PricingContext): RejectedVoucher[] {
  const vouchers = context.input.vouchers ?? [];
  return [...context.rejectedVouchers.entries()]
    .sort(([left], [right]) => left - right)
    .map(([index, reason]) => ({ code: vouchers[index]?.code ?? '', reason }));
}

/**
 * Builds the breakdown of a fully priced context. Throws {@link AmountLimitError} when an output
 * amount would exceed 2^53 - 1, and a plain Error if a balance invariant fails (a bug).
 */
export function buildBreakdown(context: PricingContext): PriceBreakdown {
  const sellerSums = context.sellers.map(sumSeller);
  const order = sumOrder(sellerSums, context.discounts);
  const platformMinor = order.commissionMinor - order.platformFundedMinor;
  assertBalanced(sellerSums, order, platformMinor);
  // The totals are converted first so that an oversized order is reported by its grand total.
  const totals = toTotals(order);
  // Object.fromEntries defines own properties, so even a seller id such as "__proto__" is a key.
  return {
    currency: context.input.currency,
    lines: context.lines.map(toLineBreakdown),
    discounts: context.discounts.map((discount) => toDiscountEntry(discount, 'discounts')),
    rejectedVouchers: toRejectedVouchers(context),
    loyalty: {
      pointsRedeemed: toAmount(context.loyalty.pointsRedeemed, 'loyalty.pointsRedeemed'),
      amount: toAmount(context.loyalty.amountMinor, 'loyalty.amount'),
    },
    sellers: Object.fromEntries(sellerSums.map((sums) => [sums.seller.sellerId, toSellerBreakdown(sums)])),
    totals,
    splits: {
      sellers: Object.fromEntries(
        sellerSums.map((sums) => [sums.seller.sellerId, toAmount(sums.payoutMinor, `splits.sellers[${JSON.stringify(sums.seller.sellerId)}]`)]),
      ),
      platform: toAmount(platformMinor, 'splits.platform'),
      tax: toAmount(order.taxMinor, 'splits.tax'),
    },
  };
}
