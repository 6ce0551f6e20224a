// Voucher acceptance (pricing-spec.md §3, "Voucher acceptance"): slots, then applicability, then
// minimum spend, in that order; the first failing check names the rejection reason. A rejected
// voucher changes no amount and takes no slot.

import type { PricingContext } from './context';
import type { VoucherInput, VoucherRejectionReason } from './types';

/** A voucher of one scope together with its position in the input `vouchers`. */
export interface IndexedVoucher<TVoucher extends VoucherInput> {
  readonly voucher: TVoucher;
  readonly index: number;
}

/** The vouchers of one scope, in input order. */
export function vouchersOfScope<TScope extends VoucherInput['scope']>(
  context: PricingContext,
  scope: TScope,
): IndexedVoucher<Extract<VoucherInput, { scope: TScope }>>[] {
  const result: IndexedVoucher<Extract<VoucherInput, { scope: TScope }>>[] = [];
  (context.input.vouchers ?? []).forEach((voucher, index) => {
    if (voucher.scope === scope) result.push({ voucher: voucher as Extract<VoucherInput, { scope: TScope }>, index });
  });
  return result;
}

/** What a voucher would act on at the moment it is considered. */
export interface VoucherApplicability {
  /** False when there is no eligible line (or, for shipping, no shipping to discount). */
  readonly applicable: boolean;
  /** The amount compared with `minSpend`. */
  readonly baseMinor: bigint;
}

function rejectionReason(
  context: PricingContext,
  voucher: VoucherInput,
  slot: string,
  applicability: VoucherApplicability,
): VoucherRejectionReason | null {
  if (context.takenVoucherSlots.has(slot)) return 'STACKING_NOT_ALLOWED';
  if (!applicability.applicable) return 'NOT_APPLICABLE';
  if (BigInt(voucher.minSpend ?? 0) > applicability.baseMinor) return 'MIN_SPEND_NOT_MET';
  return null;
}

/**
 * Decides one voucher: either it takes `slot` and the caller applies it (true), or it is recorded
 * as rejected with the first failing reason (false).
 */
export function admitVoucher(
  context: PricingContext,
  indexed: IndexedVoucher<VoucherInput>,
  slot: string,
  applicability: VoucherApplicability,
): boolean {
  const reason = rejectionReason(context, indexed.voucher, slot, applicability);
  if (reason !== null) {
    context.rejectedVouchers.set(indexed.index, reason);
    return false;
  }
  context.takenVoucherSlots.add(slot);
  return true;
}
