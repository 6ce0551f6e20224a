// Building blocks shared by the discount rules: which lines a discount covers, how much a
// percent or fixed discount takes from a base, and how that amount is spread over lines (rule A)
// and recorded. Keeping them here keeps every rule a few lines long.

import type { LineState, PricingContext } from './context';
import { allocate, minBigInt, roundBps } from './money';
import type { FundedBy } from './types';

/** A filter on lines; null matches everything. */
export interface LineFilter {
  readonly sellerId: string | null;
  readonly category: string | null;
}

/** The money terms of a percent or fixed discount (campaigns and merchandise vouchers). */
export type DiscountTerms =
  | { readonly type: 'percent'; readonly rateBps: number; readonly maxDiscount?: number | null }
  | { readonly type: 'fixed'; readonly amount: number };

/** The lines a filter selects, in line order. */
export function matchingLines(lines: readonly LineState[], filter: LineFilter): LineState[] {
  return lines.filter(
    (lineState) =>
      (filter.sellerId === null || lineState.line.sellerId === filter.sellerId) &&
      (filter.category === null || lineState.line.category === filter.category),
  );
}

/** The sum of the current nets of some lines. */
export function netSum(lines: readonly LineState[]): bigint {
  let sum = 0n;
  for (const lineState of lines) sum += lineState.netMinor;
  return sum;
}

/**
 * The amount a discount takes from base `B`: `percent` is R(B, rate) capped at `maxDiscount`
 * when it is not null; `fixed` is min(amount, B). Never more than the base.
 */
export function discountAmount(baseMinor: bigint, terms: DiscountTerms): bigint {
  if (terms.type === 'fixed') return minBigInt(BigInt(terms.amount), baseMinor);
  const uncapped = roundBps(baseMinor, BigInt(terms.rateBps));
  const cap = terms.maxDiscount;
  return cap === null || cap === undefined ? uncapped : minBigInt(uncapped, BigInt(cap));
}

/** Lowers one line's net by a discount share and remembers who funds it. */
export function recordLineDiscount(lineState: LineState, source: string, amountMinor: bigint, fundedBy: FundedBy): void {
  if (amountMinor <= 0n) return;
  if (amountMinor > lineState.netMinor) {
    throw new Error(`pricing invariant: ${source} would take line ${lineState.line.lineId} below zero`);
  }
  lineState.netMinor -= amountMinor;
  if (fundedBy === 'seller') lineState.sellerFundedMinor += amountMinor;
  else lineState.platformFundedMinor += amountMinor;
  lineState.discounts.push({ source, amountMinor, fundedBy });
}

/**
 * Applies a merchandise discount of `amountMinor` to `lines`: the amount is split by rule A with
 * the lines' current nets as weights (so no line goes below zero) and recorded once in the
 * order's discounts. A zero amount is accepted but leaves no trace, as the spec requires.
 */
export function applyMerchandiseDiscount(
  context: PricingContext,
  lines: readonly LineState[],
  amountMinor: bigint,
  source: string,
  fundedBy: FundedBy,
): void {
  if (amountMinor === 0n) return;
  const shares = allocate(
    amountMinor,
    lines.map((lineState) => lineState.netMinor),
  );
  lines.forEach((lineState, position) => recordLineDiscount(lineState, source, shares[position] ?? 0n, fundedBy));
  context.discounts.push({ source, amountMinor, fundedBy, target: 'merchandise' });
}
