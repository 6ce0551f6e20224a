/**
 * The posting rules, as pure functions: from an order's price breakdown (or a recorded parcel) to
 * the entry that must be posted. No I/O here, so the rules can be property-tested in isolation.
 *
 * Amounts are BigInt inside this module: an escrowed amount (customerPaid + subsidy) or a sum over
 * parcels can exceed 2^53 even when every breakdown field is a safe integer.
 *
 * Sign convention: debit positive, credit negative. Per parcel of an order:
 *
 *   escrow   psp_clearing                +customerPaid      (the buyer's money arrives at the PSP)
 *            platform_promotion_expense  +subsidy           (the platform funds its discounts)
 *            order_escrow(order)         -(customerPaid + subsidy)
 *   release  order_escrow(order)         +escrow            (= payout + commission + tax)
 *            seller_payable(seller)      -payout
 *            platform_commission_revenue -commission
 *            tax_payable                 -tax
 *   refund   order_escrow(order)         +escrow            (= customerPaid + subsidy)
 *            buyer_refunds_payable(order) -customerPaid
 *            platform_promotion_expense  -subsidy           (the subsidy is reversed)
 *
 * where subsidy = platformFundedDiscount + shippingDiscount. pricing-spec.md's definitions give
 * customerPaid + subsidy = payout + commission + tax for every seller, so each parcel's escrow
 * credit is consumed exactly by its release or its refund, and the order's escrow returns to zero.
 */
import { ValidationError, type FieldIssue } from '../../lib/errors';
import type { AccountKind, EntryKind, EscrowBreakdown } from './types';
import { idLimits } from '../../lib/vocabulary';

/** Limits (pricing-spec.md: amounts are at most 2^53 - 1). */
export const ledgerLimits = {
  amountMinorMax: BigInt(Number.MAX_SAFE_INTEGER),
  parcelsPerOrderMax: 200,
  idLengthMax: idLimits.externalIdLengthMax,
} as const;

/** Ids are printable text; control characters have no business in an order or seller id. */
const idPattern = /^[^\p{Cc}]+$/u;

/**
 * One id inside a business key. Percent-encoding keeps keys unambiguous whatever the ids hold:
 * `release:a:b:c` could be order "a:b" or seller "b:c", while an encoded ':' is never a separator.
 */
function keyPart(id: string): string {
  return encodeURIComponent(id);
}

function isValidId(id: unknown): id is string {
  if (typeof id !== 'string' || id.length === 0 || id.length > ledgerLimits.idLengthMax || !idPattern.test(id)) return false;
  try {
    keyPart(id); // throws on a lone surrogate
    return true;
  } catch {
    return false;
  }
}

export interface PostingDraft {
  readonly kind: AccountKind;
  readonly ref: string;
  readonly sellerId: string | null;
  readonly amountMinor: bigint;
}

export interface EntryDraft {
  readonly businessKey: string;
  readonly kind: EntryKind;
  readonly orderId: string;
  readonly sellerId: string | null;
  readonly currency: string;
  readonly memo: string;
  readonly postings: readonly PostingDraft[];
}

/** A parcel's amounts as the ledger works with them. */
export interface ParcelAmounts {
  readonly orderId: string;
  readonly sellerId: string;
  readonly position: number;
  readonly currency: string;
  readonly customerPaidMinor: bigint;
  readonly platformSubsidyMinor: bigint;
  readonly payoutMinor: bigint;
  readonly commissionMinor: bigint;
  readonly taxMinor: bigint;
}

export const ledgerKeys = {
  escrow: (orderId: string): string => `escrow:${keyPart(orderId)}`,
  release: (orderId: string, sellerId: string): string => `release:${keyPart(orderId)}:${keyPart(sellerId)}`,
  refund: (orderId: string, sellerId: string): string => `refund:${keyPart(orderId)}:${keyPart(sellerId)}`,
  refundPaid: (orderId: string, sellerId: string): string => `refund_paid:${keyPart(orderId)}:${keyPart(sellerId)}`,
  payoutPaid: (orderId: string, sellerId: string): string => `payout_paid:${keyPart(orderId)}:${keyPart(sellerId)}`,
} as const;

/** What a parcel puts into escrow, and what its release or refund takes out again. */
export function escrowOf(parcel: ParcelAmounts): bigint {
  return parcel.customerPaidMinor + parcel.platformSubsidyMinor;
}

/** Throws a ValidationError unless `id` can be part of a business key. */
export function assertLedgerId(id: unknown, path: string): asserts id is string {
  if (!isValidId(id)) {
    throw new ValidationError([{ path, message: `must be 1-${ledgerLimits.idLengthMax} printable characters` }]);
  }
}

function amountIssue(value: unknown, path: string, issues: FieldIssue[]): bigint {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    issues.push({ path, message: 'must be a non-negative integer of minor units (at most 2^53 - 1)' });
    return 0n;
  }
  return BigInt(value);
}

/** Drops zero amounts: a posting of 0 says nothing, and the schema forbids it. */
function nonZero(postings: PostingDraft[]): PostingDraft[] {
  return postings.filter((p) => p.amountMinor !== 0n);
}

/**
 * Validates an order's price breakdown and turns it into parcels. Asserts both identities the
 * ledger relies on: per seller, customerPaid + subsidy = payout + commission + tax, and the
 * customerPaid of all sellers sums to the grand total (the amount charged).
 */
export function parcelsFromBreakdown(orderId: string, breakdown: EscrowBreakdown): ParcelAmounts[] {
  assertLedgerId(orderId, 'orderId');
  const issues: FieldIssue[] = [];
  const currency = typeof breakdown?.currency === 'string' ? breakdown.currency : '';
  if (!/^[A-Z]{3}$/.test(currency)) issues.push({ path: 'breakdown.currency', message: 'must be an ISO 4217 code' });
  const sellers = breakdown?.sellers && typeof breakdown.sellers === 'object' ? Object.entries(breakdown.sellers) : [];
  if (sellers.length === 0) issues.push({ path: 'breakdown.sellers', message: 'must hold at least one seller parcel' });
  if (sellers.length > ledgerLimits.parcelsPerOrderMax) {
    issues.push({ path: 'breakdown.sellers', message: `at most ${ledgerLimits.parcelsPerOrderMax} parcels per order` });
  }
  const parcels = sellers.map(([sellerId, s], position) => {
    const at = `breakdown.sellers.${sellerId}`;
    if (!isValidId(sellerId)) {
      issues.push({ path: at, message: `seller id must be 1-${ledgerLimits.idLengthMax} printable characters` });
    }
    const parcel: ParcelAmounts = {
      orderId,
      sellerId,
      position,
      currency,
      customerPaidMinor: amountIssue(s?.customerPaid, `${at}.customerPaid`, issues),
      platformSubsidyMinor:
        amountIssue(s?.platformFundedDiscount, `${at}.platformFundedDiscount`, issues) +
        amountIssue(s?.shippingDiscount, `${at}.shippingDiscount`, issues),
      payoutMinor: amountIssue(s?.payout, `${at}.payout`, issues),
      commissionMinor: amountIssue(s?.commission, `${at}.commission`, issues),
      taxMinor: amountIssue(s?.tax, `${at}.tax`, issues),
    };
    if (escrowOf(parcel) !== parcel.payoutMinor + parcel.commissionMinor + parcel.taxMinor) {
      issues.push({ path: at, message: 'customerPaid + platformFundedDiscount + shippingDiscount must equal payout + commission + tax' });
    }
    return parcel;
  });
  const grandTotal = amountIssue(breakdown?.totals?.grandTotal, 'breakdown.totals.grandTotal', issues);
  const paid = parcels.reduce((sum, p) => sum + p.customerPaidMinor, 0n);
  if (issues.length === 0 && paid !== grandTotal) {
    issues.push({ path: 'breakdown.totals.grandTotal', message: `must equal the sum of the sellers' customerPaid (${paid})` });
  }
  if (issues.length > 0) throw new ValidationError(issues);
  return parcels;
}

/** The escrow entry: the charge and the platform's subsidy move into the order's escrow, per parcel. */
export function planEscrow(orderId: string, parcels: readonly ParcelAmounts[]): EntryDraft {
  const first = parcels[0];
  if (!first) throw new RangeError('an escrow needs at least one parcel');
  const postings = parcels.flatMap((p) =>
    nonZero([
      { kind: 'psp_clearing', ref: '', sellerId: p.sellerId, amountMinor: p.customerPaidMinor },
      { kind: 'platform_promotion_expense', ref: '', sellerId: p.sellerId, amountMinor: p.platformSubsidyMinor },
      { kind: 'order_escrow', ref: orderId, sellerId: p.sellerId, amountMinor: -escrowOf(p) },
    ]),
  );
  return {
    businessKey: ledgerKeys.escrow(orderId),
    kind: 'escrow',
    orderId,
    sellerId: null,
    currency: first.currency,
    memo: `escrow of order ${orderId} (${parcels.length} parcel${parcels.length === 1 ? '' : 's'})`,
    postings,
  };
}

/** Release: the parcel's escrow goes to the seller (payout), the platform (commission) and the tax authority. */
export function planRelease(p: ParcelAmounts): EntryDraft {
  return {
    businessKey: ledgerKeys.release(p.orderId, p.sellerId),
    kind: 'release',
    orderId: p.orderId,
    sellerId: p.sellerId,
    currency: p.currency,
    memo: `release of parcel ${p.sellerId} of order ${p.orderId}`,
    postings: nonZero([
      { kind: 'order_escrow', ref: p.orderId, sellerId: p.sellerId, amountMinor: escrowOf(p) },
      { kind: 'seller_payable', ref: p.sellerId, sellerId: p.sellerId, amountMinor: -p.payoutMinor },
      { kind: 'platform_commission_revenue', ref: '', sellerId: p.sellerId, amountMinor: -p.commissionMinor },
      { kind: 'tax_payable', ref: '', sellerId: p.sellerId, amountMinor: -p.taxMinor },
    ]),
  };
}

/** Refund: the buyer is owed what they paid for the parcel; the platform takes its subsidy back. */
export function planRefund(p: ParcelAmounts): EntryDraft {
  return {
    businessKey: ledgerKeys.refund(p.orderId, p.sellerId),
    kind: 'refund',
    orderId: p.orderId,
    sellerId: p.sellerId,
    currency: p.currency,
    memo: `refund of parcel ${p.sellerId} of order ${p.orderId}`,
    postings: nonZero([
      { kind: 'order_escrow', ref: p.orderId, sellerId: p.sellerId, amountMinor: escrowOf(p) },
      { kind: 'buyer_refunds_payable', ref: p.orderId, sellerId: p.sellerId, amountMinor: -p.customerPaidMinor },
      { kind: 'platform_promotion_expense', ref: '', sellerId: p.sellerId, amountMinor: -p.platformSubsidyMinor },
    ]),
  };
}

/** The PSP has paid the refund back to the buyer: the liability is settled from the PSP balance. */
export function planRefundPaid(p: ParcelAmounts): EntryDraft {
  return {
    businessKey: ledgerKeys.refundPaid(p.orderId, p.sellerId),
    kind: 'refund_paid',
    orderId: p.orderId,
    sellerId: p.sellerId,
    currency: p.currency,
    memo: `refund of parcel ${p.sellerId} of order ${p.orderId} paid to the buyer`,
    postings: nonZero([
      { kind: 'buyer_refunds_payable', ref: p.orderId, sellerId: p.sellerId, amountMinor: p.customerPaidMinor },
      { kind: 'psp_clearing', ref: '', sellerId: p.sellerId, amountMinor: -p.customerPaidMinor },
    ]),
  };
}

/** The seller's payout has been transferred (e.g. a Stripe Connect transfer) from the PSP balance. */
export function planPayoutPaid(p: ParcelAmounts): EntryDraft {
  return {
    businessKey: ledgerKeys.payoutPaid(p.orderId, p.sellerId),
    kind: 'payout_paid',
    orderId: p.orderId,
    sellerId: p.sellerId,
    currency: p.currency,
    memo: `payout of parcel ${p.sellerId} of order ${p.orderId} transferred to the seller`,
    postings: nonZero([
      { kind: 'seller_payable', ref: p.sellerId, sellerId: p.sellerId, amountMinor: p.payoutMinor },
      { kind: 'psp_clearing', ref: '', sellerId: p.sellerId, amountMinor: -p.payoutMinor },
    ]),
  };
}

/** Sum of a draft's postings; zero for every draft this module produces. */
export function draftSum(draft: EntryDraft): bigint {
  return draft.postings.reduce((sum, p) => sum + p.amountMinor, 0n);
}
