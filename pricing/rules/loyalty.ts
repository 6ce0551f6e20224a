// Step 5: loyalty points, funded by the platform. The buyer redeems whole points, at most their
// balance and at most `maxRedeemBps` of the merchandise net (all of it when that cap is null);
// the value is spread over every line by rule A with the current nets as weights.

import type { PricingContext } from '../context';
import { applyMerchandiseDiscount, netSum } from '../discounts';
import { minBigInt, roundBps } from '../money';
import type { LoyaltyInput } from '../types';
import type { PricingRule } from './rule';

/** How many points are redeemed against merchandise net `M`. */
export function pointsToRedeem(loyalty: LoyaltyInput, merchandiseNetMinor: bigint): bigint {
  const maxRedeemBps = loyalty.maxRedeemBps;
  const capMinor =
    maxRedeemBps === null || maxRedeemBps === undefined ? merchandiseNetMinor : roundBps(merchandiseNetMinor, BigInt(maxRedeemBps));
  const redeemableMinor = minBigInt(capMinor, merchandiseNetMinor);
  return minBigInt(BigInt(loyalty.points), redeemableMinor / BigInt(loyalty.minorUnitsPerPoint));
}

function applyLoyalty(context: PricingContext): void {
  const loyalty = context.input.loyalty;
  if (loyalty === null || loyalty === undefined) return;
  const pointsRedeemed = pointsToRedeem(loyalty, netSum(context.lines));
  const amountMinor = pointsRedeemed * BigInt(loyalty.minorUnitsPerPoint);
  context.loyalty = { pointsRedeemed, amountMinor };
  applyMerchandiseDiscount(context, context.lines, amountMinor, 'loyalty', 'platform');
}

export const loyaltyRule: PricingRule = { name: 'loyalty', apply: applyLoyalty };
