// Step 1: automatic, seller-funded promotions. Each line gets at most one promotion: the best of
// its seller's promotions that cover its sku (the largest discount; on a tie, the earlier one).

import type { LineState, PricingContext } from '../context';
import { recordLineDiscount } from '../discounts';
import { minBigInt, roundBps } from '../money';
import type { SellerPromotionInput } from '../types';
import type { PricingRule } from './rule';

interface Candidate {
  readonly promotion: SellerPromotionInput;
  /** Position in the input `sellerPromotions`: both the tie-break and the output order. */
  readonly index: number;
  /** Null when the promotion covers every sku of its seller. */
  readonly skus: ReadonlySet<string> | null;
}

/** The discount one promotion would give one line. */
export function promotionAmount(promotion: SellerPromotionInput, lineState: LineState): bigint {
  if (promotion.type === 'percent') return roundBps(lineState.grossMinor, BigInt(promotion.rateBps));
  return minBigInt(BigInt(promotion.amount), lineState.unitPriceMinor) * lineState.quantity;
}

function candidatesBySeller(promotions: readonly SellerPromotionInput[]): Map<string, Candidate[]> {
  const bySeller = new Map<string, Candidate[]>();
  promotions.forEach((promotion, index) => {
    const skus = promotion.skus === null || promotion.skus === undefined ? null : new Set(promotion.skus);
    const list = bySeller.get(promotion.sellerId) ?? [];
    list.push({ promotion, index, skus });
    bySeller.set(promotion.sellerId, list);
  });
  return bySeller;
}

/** The best candidate for a line; only a strictly larger discount displaces an earlier one. */
function bestCandidate(candidates: readonly Candidate[], lineState: LineState): { candidate: Candidate; amountMinor: bigint } | null {
  let best: { candidate: Candidate; amountMinor: bigint } | null = null;
  for (const candidate of candidates) {
    if (candidate.skus !== null && !candidate.skus.has(lineState.line.sku)) continue;
    const amountMinor = promotionAmount(candidate.promotion, lineState);
    if (best === null || amountMinor > best.amountMinor) best = { candidate, amountMinor };
  }
  return best;
}

function applySellerPromotions(context: PricingContext): void {
  const promotions = context.input.sellerPromotions ?? [];
  if (promotions.length === 0) return;
  const bySeller = candidatesBySeller(promotions);
  const totalsMinor = promotions.map(() => 0n);
  for (const lineState of context.lines) {
    const best = bestCandidate(bySeller.get(lineState.line.sellerId) ?? [], lineState);
    if (best === null || best.amountMinor === 0n) continue;
    recordLineDiscount(lineState, `promotion:${best.candidate.promotion.id}`, best.amountMinor, 'seller');
    totalsMinor[best.candidate.index] = (totalsMinor[best.candidate.index] ?? 0n) + best.amountMinor;
  }
  // The spec lists step-1 discounts in the input order of the promotions, one entry each.
  promotions.forEach((promotion, index) => {
    const amountMinor = totalsMinor[index] ?? 0n;
    if (amountMinor > 0n) {
      context.discounts.push({ source: `promotion:${promotion.id}`, amountMinor, fundedBy: 'seller', target: 'merchandise' });
    }
  });
}

export const sellerPromotionsRule: PricingRule = { name: 'seller-promotions', apply: applySellerPromotions };
