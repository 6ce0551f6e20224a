// Step 2b: seller vouchers, in input order, funded by the seller they name. Each seller has one
// seller-voucher slot; the base is the current net of that seller's lines (of `category`, if set).

import type { PricingContext } from '../context';
import { applyMerchandiseDiscount, discountAmount, matchingLines, netSum } from '../discounts';
import type { SellerVoucherInput } from '../types';
import { admitVoucher, type IndexedVoucher, vouchersOfScope } from '../vouchers';
import type { PricingRule } from './rule';

function applySellerVoucher(context: PricingContext, indexed: IndexedVoucher<SellerVoucherInput>): void {
  const { voucher } = indexed;
  const lines = matchingLines(context.lines, { sellerId: voucher.sellerId, category: voucher.category ?? null });
  const baseMinor = netSum(lines);
  const slot = `seller:${voucher.sellerId}`;
  if (!admitVoucher(context, indexed, slot, { applicable: lines.length > 0, baseMinor })) return;
  applyMerchandiseDiscount(context, lines, discountAmount(baseMinor, voucher), `voucher:${voucher.code}`, 'seller');
}

function applySellerVouchers(context: PricingContext): void {
  for (const indexed of vouchersOfScope(context, 'seller')) applySellerVoucher(context, indexed);
}

export const sellerVouchersRule: PricingRule = { name: 'seller-vouchers', apply: applySellerVouchers };
