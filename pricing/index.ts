// The public API of the pricing engine (pricing-spec.md). Services and the checkout workflow
// import from here only; every other module of this folder is an implementation detail.

export { price, tryPrice, validatePricingInput, type PricingResult, type PricingValidationResult } from './engine';
export { PricingValidationError, type ValidationIssue } from './errors';
export { allocate, roundBps } from './money';
export { renderBreakdown, formatMinor } from './render';
export type {
  AmountMap,
  CategoryCampaignInput,
  DiscountEntry,
  FundedBy,
  LineBreakdown,
  LoyaltyBreakdown,
  LoyaltyInput,
  MerchandiseVoucherTerms,
  PlatformVoucherInput,
  PriceBreakdown,
  PriceSplits,
  PriceTotals,
  PricingInput,
  PricingLineInput,
  RejectedVoucher,
  SellerBreakdown,
  SellerPromotionInput,
  SellerVoucherInput,
  ShippingVoucherInput,
  VoucherInput,
  VoucherRejectionReason,
} from './types';
