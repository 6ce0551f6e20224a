// Step 2a: automatic category campaigns, in input order, funded by their `fundedBy`. A campaign
// that matches no line or whose minimum spend is not met simply does not apply; it is never
// reported as rejected, because the buyer did not ask for it.

import type { PricingContext } from '../context';
import { applyMerchandiseDiscount, discountAmount, matchingLines, netSum } from '../discounts';
import type { CategoryCampaignInput } from '../types';
import type { PricingRule } from './rule';

function applyCampaign(context: PricingContext, campaign: CategoryCampaignInput): void {
  const lines = matchingLines(context.lines, { sellerId: campaign.sellerId ?? null, category: campaign.category ?? null });
  if (lines.length === 0) return;
  const baseMinor = netSum(lines);
  if (BigInt(campaign.minSpend ?? 0) > baseMinor) return;
  applyMerchandiseDiscount(context, lines, discountAmount(baseMinor, campaign), `campaign:${campaign.id}`, campaign.fundedBy);
}

function applyCategoryCampaigns(context: PricingContext): void {
  for (const campaign of context.input.categoryCampaigns ?? []) applyCampaign(context, campaign);
}

export const categoryCampaignsRule: PricingRule = { name: 'category-campaigns', apply: applyCategoryCampaigns };
