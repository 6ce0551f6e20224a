/**
 * What a seller may see of an order (api-contract.md, Conventions: "a seller sees only its own part
 * of an order: its lines, its parcel, its payout; never another seller's figures").
 *
 * A pure function of the order view: the orders route applies it to `GET /v1/orders/{orderId}` for
 * a seller token (buyers and admin see the whole order). The seller's view keeps the order's shape
 * (the same documented schema), with every figure narrowed to the seller's part:
 *
 * - `parcels`: its own parcel only.
 * - `pricing.lines`, `pricing.sellers`, `pricing.splits.sellers`: its own only.
 * - `pricing.totals` and `pricing.splits`: the totals **of its part** — the order's grand total
 *   and the other sellers' sums are the buyer's business. `totals.grandTotal` is what the buyer
 *   paid for this seller's parcel (its `customerPaid`), `splits.platform` the platform's take on it
 *   (commission minus the platform-funded discounts on its lines and its shipping).
 * - `pricing.discounts`: each discount's amount on its part (its lines; a shipping voucher's amount
 *   on its shipping), zero ones dropped — another seller's voucher is not even named.
 * - `pricing.loyalty`: `amount` is the loyalty discount on its lines; `pointsRedeemed` (the buyer's
 *   points) is 0. `pricing.rejectedVouchers` (the buyer's) is empty.
 * - `failure`: the code, a generic message, and only the details that concern it
 *   (`INSUFFICIENT_STOCK`: its own short lines); the raw message and other details may hold the
 *   order's totals or other sellers' SKUs.
 * - `scope: {sellerId}` says the view is narrowed.
 *
 * The order's id, buyer id, status, saga progress and dates stay: they carry no money.
 */
import type { DiscountEntry, LineBreakdown, PriceBreakdown } from '../pricing';
import type { OrderView } from './order-view';

export type SellerOrderView = OrderView & { scope: { sellerId: string } };

/** Does the seller have a part in the order: a parcel, or lines in its frozen price? */
export function sellerHasPart(view: Pick<OrderView, 'parcels' | 'pricing'>, sellerId: string): boolean {
  return view.parcels.some((p) => p.sellerId === sellerId) || (view.pricing?.lines.some((l) => l.sellerId === sellerId) ?? false);
}

const sum = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0);

function ownDiscounts(pricing: PriceBreakdown, ownLines: readonly LineBreakdown[], shippingDiscount: number): DiscountEntry[] {
  const onAnyLine = new Set(pricing.lines.flatMap((l) => l.discounts.map((d) => d.source)));
  // An order-level entry that is on no line is the shipping voucher (at most one per order,
  // pricing-spec.md): its share on this seller's part is the seller's shipping discount.
  const orderLevel = pricing.discounts.filter((d) => !onAnyLine.has(d.source));
  return pricing.discounts.flatMap((entry) => {
    const amount = onAnyLine.has(entry.source)
      ? sum(ownLines.flatMap((l) => l.discounts.filter((d) => d.source === entry.source).map((d) => d.amount)))
      : orderLevel.length === 1
        ? shippingDiscount
        : 0;
    return amount > 0 ? [{ ...entry, amount }] : [];
  });
}

/** The price breakdown of the seller's part of the order; null when it has none in it. */
export function scopePricing(pricing: PriceBreakdown, sellerId: string): PriceBreakdown | null {
  const own = pricing.sellers[sellerId];
  if (!own) return null;
  const lines = pricing.lines.filter((l) => l.sellerId === sellerId);
  const loyalty = sum(lines.flatMap((l) => l.discounts.filter((d) => d.source === 'loyalty').map((d) => d.amount)));
  return {
    currency: pricing.currency,
    lines,
    discounts: ownDiscounts(pricing, lines, own.shippingDiscount),
    rejectedVouchers: [],
    loyalty: { pointsRedeemed: 0, amount: loyalty },
    sellers: { [sellerId]: own },
    totals: {
      merchandiseGross: own.merchandiseGross,
      discountTotal: own.sellerFundedDiscount + own.platformFundedDiscount,
      merchandiseNet: own.merchandiseNet,
      shipping: own.shippingFee,
      shippingDiscount: own.shippingDiscount,
      tax: own.tax,
      grandTotal: own.customerPaid,
    },
    splits: {
      sellers: { [sellerId]: own.payout },
      platform: own.commission - own.platformFundedDiscount - own.shippingDiscount,
      tax: own.tax,
    },
  };
}

function scopeFailure(failure: NonNullable<OrderView['failure']>, ownSkus: ReadonlySet<string>): NonNullable<OrderView['failure']> {
  const details: Record<string, unknown> = {};
  if (failure.code === 'INSUFFICIENT_STOCK' && Array.isArray(failure.details.lines)) {
    details.lines = (failure.details.lines as unknown[]).filter((line) => {
      const sku = (line as { sku?: unknown } | null)?.sku;
      return typeof sku === 'string' && ownSkus.has(sku);
    });
  }
  return { code: failure.code, message: `the checkout failed: ${failure.code}`, details };
}

/**
 * The seller's part of an order, or undefined when it has no part in it (the route answers 403,
 * as for another buyer's order).
 */
export function scopeOrderForSeller(view: OrderView, sellerId: string): SellerOrderView | undefined {
  if (!sellerHasPart(view, sellerId)) return undefined;
  const pricing = view.pricing ? scopePricing(view.pricing, sellerId) : null;
  const ownSkus = new Set((pricing?.lines ?? []).map((l) => l.sku));
  return {
    orderId: view.orderId,
    userId: view.userId,
    status: view.status,
    ...(view.failure ? { failure: scopeFailure(view.failure, ownSkus) } : {}),
    pricing,
    parcels: view.parcels.filter((p) => p.sellerId === sellerId),
    saga: view.saga,
    createdAt: view.createdAt,
    scope: { sellerId },
  };
}
