// Step 7: commission per line on the seller base, which is the gross minus the discounts the
// seller funds. Platform-funded discounts never lower the seller base, so they never lower the
// commission or the payout either.

import { lookupInteger, type PricingContext } from '../context';
import { roundBps } from '../money';
import type { PricingRule } from './rule';

function applyCommission(context: PricingContext): void {
  const { commissionRatesBps, defaultCommissionBps } = context.input;
  for (const lineState of context.lines) {
    const rateBps = lookupInteger(commissionRatesBps, lineState.line.category, defaultCommissionBps);
    lineState.sellerBaseMinor = lineState.grossMinor - lineState.sellerFundedMinor;
    lineState.commissionMinor = roundBps(lineState.sellerBaseMinor, rateBps);
  }
}

export const commissionRule: PricingRule = { name: 'commission', apply: applyCommission };
