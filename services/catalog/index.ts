/** Catalog service: sellers, products, promotions, campaigns, pricing configuration. See docs/services.md. */
export {
  assemblePricingInput,
  createCatalogService,
  withPendingPayouts,
  type CatalogDeps,
  type CatalogPricing,
  type CatalogService,
  type CategoryCampaign,
  type PricedProduct,
  type PricingConfig,
  type PricingData,
  type PricingRequestLine,
  type Product,
  type ProductWithStock,
  type Seller,
  type SellerPayoutsHook,
  type SellerPendingPayout,
  type SellerPromotion,
} from './service';
export type { CampaignInput, PricingConfigInput, ProductInput, PromotionInput, SellerInput } from './schemas';
