// Step 4: shipping fees and the shipping voucher. Every seller with a line has a fee (absent = 0).
// One shipping voucher can be accepted, funded by the platform; its amount is split over the
// sellers by rule A with their fees as weights, in seller order. Its minimum spend is compared
// with the merchandise net after the platform voucher.

import type { PricingContext } from '../context';
import { lookupInteger } from '../context';
import { netSum } from '../discounts';
import { allocate, minBigInt } from '../money';
import type { ShippingVoucherInput } from '../types';
import { admitVoucher, type IndexedVoucher, vouchersOfScope } from '../vouchers';
import type { PricingRule } from './rule';

const shippingSlot = 'shipping';

/** The amount a shipping voucher takes from the total shipping. */
export function shippingDiscountAmount(voucher: ShippingVoucherInput, shippingMinor: bigint): bigint {
  if (voucher.type === 'fixed') return minBigInt(BigInt(voucher.amount), shippingMinor);
  const cap = voucher.maxDiscount;
  return cap === null || cap === undefined ? shippingMinor : minBigInt(shippingMinor, BigInt(cap));
}

function setShippingFees(context: PricingContext): bigint {
  let shippingMinor = 0n;
  for (const seller of context.sellers) {
    seller.shippingFeeMinor = lookupInteger(context.input.shippingFees, seller.sellerId, 0);
    shippingMinor += seller.shippingFeeMinor;
  }
  return shippingMinor;
}

function applyShippingDiscount(context: PricingContext, amountMinor: bigint, source: string): void {
  if (amountMinor === 0n) return;
  const shares = allocate(
    amountMinor,
    context.sellers.map((seller) => seller.shippingFeeMinor),
  );
  context.sellers.forEach((seller, position) => {
    seller.shippingDiscountMinor += shares[position] ?? 0n;
  });
  context.discounts.push({ source, amountMinor, fundedBy: 'platform', target: 'shipping' });
}

function applyShippingVoucher(
  context: PricingContext,
  indexed: IndexedVoucher<ShippingVoucherInput>,
  shippingMinor: bigint,
  merchandiseNetMinor: bigint,
): void {
  const applicability = { applicable: shippingMinor > 0n, baseMinor: merchandiseNetMinor };
  if (!admitVoucher(context, indexed, shippingSlot, applicability)) return;
  applyShippingDiscount(context, shippingDiscountAmount(indexed.voucher, shippingMinor), `voucher:${indexed.voucher.code}`);
}

function applyShipping(context: PricingContext): void {
  const shippingMinor = setShippingFees(context);
  const merchandiseNetMinor = netSum(context.lines);
  for (const indexed of vouchersOfScope(context, 'shipping')) {
    applyShippingVoucher(context, indexed, shippingMinor, merchandiseNetMinor);
  }
}

export const shippingRule: PricingRule = { name: 'shipping', apply: applyShipping };
