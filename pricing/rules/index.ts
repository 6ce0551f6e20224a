// The rule chain, in the order of pricing-spec.md §3. A new rule type is a new module listed here.

import { categoryCampaignsRule } from './category-campaigns';
import { commissionRule } from './commission';
import { loyaltyRule } from './loyalty';
import { platformVoucherRule } from './platform-voucher';
import type { PricingRule } from './rule';
import { sellerPromotionsRule } from './seller-promotions';
import { sellerVouchersRule } from './seller-vouchers';
import { shippingRule } from './shipping';
import { taxRule } from './tax';

export type { PricingRule } from './rule';

export const pricingRules: readonly PricingRule[] = [
  sellerPromotionsRule,
  categoryCampaignsRule,
  sellerVouchersRule,
  platformVoucherRule,
  shippingRule,
  loyaltyRule,
  taxRule,
  commissionRule,
];
