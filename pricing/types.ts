// The public data shapes of the pricing engine (pricing-spec.md §2 and §4).
//
// Field names are fixed by the specification because they travel as JSON between the API, the
// checkout workflow, the order record and outside checkers. Every amount is an integer number of
// minor units of the order's currency and every rate an integer number of basis points; both are
// plain JSON numbers no larger than 2^53 - 1, so they are exact in JavaScript.

/** Who pays for a discount: the seller (it lowers the payout) or the platform (a subsidy). */
export type FundedBy = 'seller' | 'platform';

/** One cart line: a quantity of one sku sold by one seller. */
export interface PricingLineInput {
  readonly lineId: string;
  readonly sku: string;
  readonly sellerId: string;
  readonly category: string;
  readonly unitPrice: number;
  readonly quantity: number;
  /** Optional; when present it must equal the order currency (an order has one currency). */
  readonly currency?: string;
}

interface SellerPromotionBase {
  readonly id: string;
  readonly sellerId: string;
  /** Absent or null: every sku of the seller. An empty list matches nothing. */
  readonly skus?: readonly string[] | null;
  /** Optional; when present it must equal the order currency. */
  readonly currency?: string;
}

/** An automatic, seller-funded promotion (spec step 1). */
export type SellerPromotionInput =
  | (SellerPromotionBase & { readonly type: 'percent'; readonly rateBps: number })
  | (SellerPromotionBase & { readonly type: 'fixed_per_unit'; readonly amount: number });

interface CategoryCampaignBase {
  readonly id: string;
  /** Null or absent: no category filter. */
  readonly category?: string | null;
  /** Null or absent: no seller filter. */
  readonly sellerId?: string | null;
  /** Absent or null: 0. */
  readonly minSpend?: number | null;
  readonly fundedBy: FundedBy;
  /** Optional; when present it must equal the order currency. */
  readonly currency?: string;
}

/** An automatic campaign over a category and/or a seller (spec step 2). */
export type CategoryCampaignInput =
  | (CategoryCampaignBase & { readonly type: 'percent'; readonly rateBps: number; readonly maxDiscount?: number | null })
  | (CategoryCampaignBase & { readonly type: 'fixed'; readonly amount: number });

/** The money part shared by seller and platform vouchers. */
export type MerchandiseVoucherTerms =
  | { readonly type: 'percent'; readonly rateBps: number; readonly maxDiscount?: number | null }
  | { readonly type: 'fixed'; readonly amount: number };

interface VoucherBase {
  readonly code: string;
  /** Absent or null: 0. */
  readonly minSpend?: number | null;
  /** Optional; when present it must equal the order currency. */
  readonly currency?: string;
}

/** A seller-funded voucher for one seller's lines (spec step 2). */
export type SellerVoucherInput = VoucherBase &
  MerchandiseVoucherTerms & { readonly scope: 'seller'; readonly sellerId: string; readonly category?: string | null };

/** A platform-funded voucher over the whole cart or one category (spec step 3). */
export type PlatformVoucherInput = VoucherBase &
  MerchandiseVoucherTerms & { readonly scope: 'platform'; readonly category?: string | null };

/** A platform-funded voucher on the shipping fees (spec step 4). */
export type ShippingVoucherInput = VoucherBase & { readonly scope: 'shipping' } & (
    | { readonly type: 'free_shipping'; readonly maxDiscount?: number | null }
    | { readonly type: 'fixed'; readonly amount: number }
  );

export type VoucherInput = SellerVoucherInput | PlatformVoucherInput | ShippingVoucherInput;

/** Loyalty points the buyer wants to redeem (spec step 5). */
export interface LoyaltyInput {
  readonly points: number;
  readonly minorUnitsPerPoint: number;
  /** Absent or null: no cap beyond the merchandise net. */
  readonly maxRedeemBps?: number | null;
}

/** A read-only map from a key (seller id, category) to an integer. */
export type AmountMap = Readonly<Record<string, number>>;

/** The input document of the engine (spec §2). Absent lists and maps are empty. */
export interface PricingInput {
  readonly currency: string;
  readonly lines: readonly PricingLineInput[];
  readonly sellerPromotions?: readonly SellerPromotionInput[] | null;
  readonly categoryCampaigns?: readonly CategoryCampaignInput[] | null;
  readonly vouchers?: readonly VoucherInput[] | null;
  readonly shippingFees?: AmountMap | null;
  readonly loyalty?: LoyaltyInput | null;
  readonly taxRatesBps?: AmountMap | null;
  readonly defaultTaxRateBps?: number | null;
  readonly commissionRatesBps?: AmountMap | null;
  readonly defaultCommissionBps?: number | null;
}

/** One applied discount, on a line or over the whole order. Never zero. */
export interface DiscountEntry {
  /** `promotion:<id>`, `campaign:<id>`, `voucher:<code>` or `loyalty`. */
  readonly source: string;
  readonly amount: number;
  readonly fundedBy: FundedBy;
  /** Optional; when present it must equal the order currency. */
  readonly currency?: string;
}

export interface LineBreakdown {
  readonly lineId: string;
  readonly sku: string;
  readonly sellerId: string;
  readonly gross: number;
  /** The discounts on this line, in application order. */
  readonly discounts: readonly DiscountEntry[];
  readonly net: number;
  readonly tax: number;
  readonly sellerBase: number;
  readonly commission: number;
}

export type VoucherRejectionReason = 'STACKING_NOT_ALLOWED' | 'NOT_APPLICABLE' | 'MIN_SPEND_NOT_MET';

export interface RejectedVoucher {
  readonly code: string;
  readonly reason: VoucherRejectionReason;
}

export interface LoyaltyBreakdown {
  readonly pointsRedeemed: number;
  readonly amount: number;
}

export interface SellerBreakdown {
  readonly merchandiseGross: number;
  readonly sellerFundedDiscount: number;
  readonly platformFundedDiscount: number;
  readonly merchandiseNet: number;
  readonly shippingFee: number;
  readonly shippingDiscount: number;
  readonly tax: number;
  readonly commission: number;
  /** What the buyer pays for this seller's parcel: net + tax + shipping - shipping discount. */
  readonly customerPaid: number;
  /** What the seller receives: sum of (sellerBase - commission) plus the full shipping fee. */
  readonly payout: number;
}

export interface PriceTotals {
  readonly merchandiseGross: number;
  /** Merchandise discounts only (steps 1, 2, 3 and 5); shipping discounts are separate. */
  readonly discountTotal: number;
  readonly merchandiseNet: number;
  readonly shipping: number;
  readonly shippingDiscount: number;
  readonly tax: number;
  readonly grandTotal: number;
}

export interface PriceSplits {
  /** Payout per seller, in seller order. */
  readonly sellers: Readonly<Record<string, number>>;
  /** Commission minus every platform-funded discount; negative when the platform subsidises. */
  readonly platform: number;
  readonly tax: number;
}

/** The output document of the engine (spec §4). */
export interface PriceBreakdown {
  readonly currency: string;
  readonly lines: readonly LineBreakdown[];
  /** Every applied discount once, in application order, with its total amount. */
  readonly discounts: readonly DiscountEntry[];
  /** Rejected vouchers, in the order of the input `vouchers`. */
  readonly rejectedVouchers: readonly RejectedVoucher[];
  readonly loyalty: LoyaltyBreakdown;
  /** Per seller, keyed by seller id, in seller order (first appearance in `lines`). */
  readonly sellers: Readonly<Record<string, SellerBreakdown>>;
  readonly totals: PriceTotals;
  readonly splits: PriceSplits;
}
