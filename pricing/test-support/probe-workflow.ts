// A one-line Temporal workflow used by workflow-sandbox.test.ts to prove that the engine bundles
// and runs inside Temporal's deterministic workflow sandbox, as the checkout workflow needs.

import { price, renderBreakdown, type PriceBreakdown, type PricingInput } from '../index';

export function pricingProbeWorkflow(input: PricingInput): Promise<{ breakdown: PriceBreakdown; text: string }> {
  const breakdown = price(input);
  return Promise.resolve({ breakdown, text: renderBreakdown(breakdown) });
}
