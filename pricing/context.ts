// The working state of one pricing run. The rules of the chain read the validated input and
// update this state in place, in the order of the spec; the breakdown is built from it at the end.
// All amounts here are exact BigInts of minor units; they become JSON numbers only in the output.

import type { FundedBy, PricingInput, PricingLineInput, VoucherRejectionReason } from './types';

/** One discount's share on one line. Never zero. */
export interface LineDiscount {
  readonly source: string;
  readonly amountMinor: bigint;
  readonly fundedBy: FundedBy;
}

export interface LineState {
  /** Position in the input `lines`: the tie-break order of rule A. */
  readonly index: number;
  readonly line: PricingLineInput;
  readonly unitPriceMinor: bigint;
  readonly quantity: bigint;
  readonly grossMinor: bigint;
  /** The running net: gross minus every merchandise discount applied so far. */
  netMinor: bigint;
  sellerFundedMinor: bigint;
  platformFundedMinor: bigint;
  /** The discounts on this line in application order. */
  readonly discounts: LineDiscount[];
  taxMinor: bigint;
  sellerBaseMinor: bigint;
  commissionMinor: bigint;
}

export interface SellerState {
  readonly sellerId: string;
  /** This seller's lines, in line order. */
  readonly lines: LineState[];
  shippingFeeMinor: bigint;
  shippingDiscountMinor: bigint;
}

/** Merchandise discounts lower line nets; shipping discounts lower the sellers' shipping fees. */
export type DiscountTarget = 'merchandise' | 'shipping';

/** An applied discount with its total amount. Never zero. */
export interface AppliedDiscount {
  readonly source: string;
  readonly amountMinor: bigint;
  readonly fundedBy: FundedBy;
  readonly target: DiscountTarget;
}

export interface PricingContext {
  readonly input: PricingInput;
  /** Every line, in input order. */
  readonly lines: readonly LineState[];
  /** Every seller with at least one line, in seller order (first appearance in `lines`). */
  readonly sellers: readonly SellerState[];
  /** Applied discounts in application order. */
  readonly discounts: AppliedDiscount[];
  /** Rejected vouchers by their index in the input `vouchers`. */
  readonly rejectedVouchers: Map<number, VoucherRejectionReason>;
  /** Voucher slots already taken by an accepted voucher (`seller:<id>`, `platform`, `shipping`). */
  readonly takenVoucherSlots: Set<string>;
  loyalty: { pointsRedeemed: bigint; amountMinor: bigint };
}

function createLineState(line: PricingLineInput, index: number): LineState {
  const unitPriceMinor = BigInt(line.unitPrice);
  const quantity = BigInt(line.quantity);
  const grossMinor = unitPriceMinor * quantity;
  return {
    index,
    line,
    unitPriceMinor,
    quantity,
    grossMinor,
    netMinor: grossMinor,
    sellerFundedMinor: 0n,
    platformFundedMinor: 0n,
    discounts: [],
    taxMinor: 0n,
    sellerBaseMinor: grossMinor,
    commissionMinor: 0n,
  };
}

function groupBySeller(lines: readonly LineState[]): SellerState[] {
  const sellersById = new Map<string, SellerState>();
  for (const lineState of lines) {
    const sellerId = lineState.line.sellerId;
    let seller = sellersById.get(sellerId);
    if (seller === undefined) {
      seller = { sellerId, lines: [], shippingFeeMinor: 0n, shippingDiscountMinor: 0n };
      sellersById.set(sellerId, seller);
    }
    seller.lines.push(lineState);
  }
  // A Map iterates in insertion order, which is the seller order of the spec.
  return [...sellersById.values()];
}

/** The initial state for a validated input: every line at its gross, nothing applied yet. */
export function createContext(input: PricingInput): PricingContext {
  const lines = input.lines.map(createLineState);
  return {
    input,
    lines,
    sellers: groupBySeller(lines),
    discounts: [],
    rejectedVouchers: new Map(),
    takenVoucherSlots: new Set(),
    loyalty: { pointsRedeemed: 0n, amountMinor: 0n },
  };
}

/**
 * The integer under `key` in an optional input map, or the fallback. Only own properties count,
 * so a category named "constructor" or "__proto__" finds its own entry or none.
 */
export function lookupInteger(
  map: Readonly<Record<string, number>> | null | undefined,
  key: string,
  fallback: number | null | undefined,
): bigint {
  if (map !== null && map !== undefined && Object.hasOwn(map, key)) return BigInt(map[key] ?? 0);
  return BigInt(fallback ?? 0);
}
