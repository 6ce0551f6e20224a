/**
 * Public types of the double-entry ledger. Every amount is an integer number of minor units; a
 * posting's amount is signed, DEBIT POSITIVE and CREDIT NEGATIVE (see docs/payments-and-ledger.md).
 * Everything here is plain JSON (no bigint, no Date), because these values travel through Temporal.
 */
import type { PriceBreakdown } from '../../pricing';

/** The ledger's accounts. The three per-owner kinds carry the owner id in `ref`. */
export const accountKinds = [
  'psp_clearing', // asset: money held for us at the payment service provider
  'order_escrow', // liability, one per order (ref = order id): funds held until each parcel settles
  'seller_payable', // liability, one per seller (ref = seller id): released payouts not yet paid out
  'platform_commission_revenue', // revenue: commission earned on released parcels
  'platform_promotion_expense', // expense: platform-funded discounts (the subsidy) on released parcels
  'tax_payable', // liability: tax collected on released parcels, owed to the tax authority
  'buyer_refunds_payable', // liability, one per order (ref = order id): refunds owed to the buyer
] as const;

export type AccountKind = (typeof accountKinds)[number];

/** The account kinds that exist once per owner (order or seller); the others are platform-wide. */
export const ownedAccountKinds: ReadonlySet<AccountKind> = new Set(['order_escrow', 'seller_payable', 'buyer_refunds_payable']);

export interface AccountRef {
  readonly kind: AccountKind;
  /** The owner: order id (order_escrow, buyer_refunds_payable), seller id (seller_payable), '' otherwise. */
  readonly ref: string;
}

export type EntryKind = 'escrow' | 'release' | 'refund' | 'refund_paid' | 'payout_paid' | 'adjustment';

export interface Posting {
  readonly account: AccountRef;
  /** The seller parcel the posting belongs to, or null when it is not parcel-specific. */
  readonly sellerId: string | null;
  /** Signed: debit positive, credit negative. Never zero. */
  readonly amountMinor: number;
}

export interface LedgerEntry {
  /** The database id (a BIGINT, as a string). */
  readonly entryId: string;
  /** Unique: repeating an operation finds this entry instead of posting again. */
  readonly businessKey: string;
  readonly kind: EntryKind;
  readonly orderId: string | null;
  readonly sellerId: string | null;
  readonly currency: string;
  readonly memo: string;
  /** RFC 3339. */
  readonly createdAt: string;
  readonly postings: readonly Posting[];
}

/**
 * The fields of one seller's part of a price breakdown that escrow needs (pricing-spec.md §4).
 * The pricing engine's SellerBreakdown satisfies it structurally.
 */
export interface EscrowSellerAmounts {
  readonly customerPaid: number;
  readonly platformFundedDiscount: number;
  readonly shippingDiscount: number;
  readonly payout: number;
  readonly commission: number;
  readonly tax: number;
}

/** The part of a price breakdown that escrow needs; the pricing engine's PriceBreakdown satisfies it. */
export interface EscrowBreakdown {
  readonly currency: string;
  /** Keyed by seller id, in seller order. */
  readonly sellers: Readonly<Record<string, EscrowSellerAmounts>>;
  readonly totals: { readonly grandTotal: number };
}

export type ParcelState = 'held' | 'released' | 'refunded';

/** One seller's share of an order's escrow, as recorded when the escrow was created. */
export interface Parcel {
  readonly orderId: string;
  readonly sellerId: string;
  readonly position: number;
  readonly currency: string;
  readonly customerPaidMinor: number;
  /** Platform-funded merchandise discount plus platform-funded shipping discount. */
  readonly platformSubsidyMinor: number;
  readonly payoutMinor: number;
  readonly commissionMinor: number;
  readonly taxMinor: number;
  /** What the parcel put into escrow: customerPaid + subsidy = payout + commission + tax. */
  readonly escrowMinor: number;
}

export interface ParcelStatement extends Parcel {
  readonly state: ParcelState;
  /** This parcel's share of the order's escrow account balance (credit negative; 0 once settled). */
  readonly escrowBalanceMinor: number;
}

export interface AccountBalance {
  readonly account: AccountRef;
  readonly currency: string;
  readonly balanceMinor: number;
}

export interface OrderStatement {
  readonly orderId: string;
  readonly currency: string;
  readonly parcels: readonly ParcelStatement[];
  readonly entries: readonly LedgerEntry[];
  /** The order_escrow account's balance (credit negative); 0 once every parcel is settled. */
  readonly escrowBalanceMinor: number;
  /** Per account, the sum of this order's postings (not the account's whole balance). */
  readonly totals: readonly AccountBalance[];
}

export interface BalanceFilter {
  readonly kind?: AccountKind;
  readonly ref?: string;
  readonly currency?: string;
}

/** Compile-time proof that the pricing engine's output is what createEscrow accepts. */
export type PriceBreakdownIsEscrowBreakdown = PriceBreakdown extends EscrowBreakdown ? true : never;
const _priceBreakdownFits: PriceBreakdownIsEscrowBreakdown = true;
void _priceBreakdownFits;
