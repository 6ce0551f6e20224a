// Step 6: tax per line on its final net, at the rate of its category or the default rate.
// Shipping is not taxed.

import { lookupInteger, type PricingContext } from '../context';
import { roundBps } from '../money';
import type { PricingRule } from './rule';

function applyTax(context: PricingContext): void {
  const { taxRatesBps, defaultTaxRateBps } = context.input;
  for (const lineState of context.lines) {
    const rateBps = lookupInteger(taxRatesBps, lineState.line.category, defaultTaxRateBps);
    lineState.taxMinor = roundBps(lineState.netMinor, rateBps);
  }
}

export const taxRule: PricingRule = { name: 'tax', apply: applyTax };
