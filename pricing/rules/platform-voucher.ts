// Step 3: the platform voucher, funded by the platform, over every line or the lines of one
// category. Only one platform voucher can be accepted per order.

import type { PricingContext } from '../context';
import { applyMerchandiseDiscount, discountAmount, matchingLines, netSum } from '../discounts';
import type { PlatformVoucherInput } from '../types';
import { admitVoucher, type IndexedVoucher, vouchersOfScope } from '../vouchers';
import type { PricingRule } from './rule';

const platformSlot = 'platform';

function applyPlatformVoucher(context: PricingContext, indexed: IndexedVoucher<PlatformVoucherInput>): void {
  const { voucher } = indexed;
  const lines = matchingLines(context.lines, { sellerId: null, category: voucher.category ?? null });
  const baseMinor = netSum(lines);
  if (!admitVoucher(context, indexed, platformSlot, { applicable: lines.length > 0, baseMinor })) return;
  applyMerchandiseDiscount(context, lines, discountAmount(baseMinor, voucher), `voucher:${voucher.code}`, 'platform');
}

function applyPlatformVouchers(context: PricingContext): void {
  for (const indexed of vouchersOfScope(context, 'platform')) applyPlatformVoucher(context, indexed);
}

export const platformVoucherRule: PricingRule = { name: 'platform-voucher', apply: applyPlatformVouchers };
