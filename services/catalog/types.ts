/** The catalog's types as callers see them, and the service's interface. */
import type { Pool } from 'pg';
import type { CategoryCampaignInput, PricingInput, SellerPromotionInput, VoucherInput } from '../../pricing';
import type { StockGate, StockLevels } from '../inventory';
import type { CampaignInput, PricingConfigInput, ProductInput, PromotionInput, SellerInput } from './schemas';

export interface Seller {
  sellerId: string;
  name: string;
  /** Minor units of the order currency (a marketplace region trades in one currency). */
  shippingFee: number;
  /** The Stripe connected account that receives the seller's payouts; absent: none (payouts wait). */
  stripeAccountId?: string;
  /** Payouts the seller is still owed (no account yet, or a failed transfer); absent: none. */
  pendingPayouts?: SellerPendingPayout[];
}

export interface SellerPendingPayout {
  orderId: string;
  amountMinor: number;
  currency: string;
  status: string;
  lastError: string | null;
}

/** The seller as admins read it: `pendingPayouts` only while some are owed. */
export function withPendingPayouts(seller: Seller, unpaid: readonly SellerPendingPayout[]): Seller {
  if (unpaid.length === 0) return seller;
  return { ...seller, pendingPayouts: unpaid.map(({ orderId, amountMinor, currency, status, lastError }) => ({ orderId, amountMinor, currency, status, lastError })) };
}

/**
 * Pays the payouts a seller is owed to its current account (services/payments payPendingPayouts)
 * and reports those still owed. Called after every seller upsert: setting an account pays them.
 */
export type SellerPayoutsHook = (sellerId: string) => Promise<{ unpaid: readonly SellerPendingPayout[] }>;

export interface Product {
  sku: string;
  sellerId: string;
  name: string;
  category: string;
  unitPrice: number;
  currency: string;
}

export interface ProductWithStock extends Product {
  stock: StockLevels;
}

export type SellerPromotion = SellerPromotionInput & { active: boolean };
export type CategoryCampaign = CategoryCampaignInput & { active: boolean };

export interface PricingConfig {
  defaultTaxRateBps: number;
  taxRatesBps: Record<string, number>;
  defaultCommissionBps: number;
  commissionRatesBps: Record<string, number>;
}

export interface PricingRequestLine {
  sku: string;
  quantity: number;
}

/** The engine's input, and the catalog products of its lines (in line order) for display. */
export interface CatalogPricing {
  input: PricingInput;
  products: Product[];
}

/** A product with its seller's shipping fee (what a pricing line needs). */
export interface PricedProduct extends Product {
  shippingFee: number;
}

/**
 * Everything the pricing input of some skus needs, read in one round trip: the products that
 * exist among them, the active promotions of their sellers and the active campaigns that can match
 * them (each in input order), and the tax and commission rates.
 */
export interface PricingData {
  products: Map<string, PricedProduct>;
  promotions: SellerPromotionInput[];
  campaigns: CategoryCampaignInput[];
  config: PricingConfig;
}

export interface CatalogService {
  upsertSeller(sellerId: string, input: SellerInput): Promise<Seller>;
  getSeller(sellerId: string): Promise<Seller>;
  /** `stock`, when given, sets the on-hand units (it may not drop below the reserved units). */
  upsertProduct(sku: string, input: ProductInput): Promise<ProductWithStock>;
  getProduct(sku: string): Promise<ProductWithStock>;
  /** The products that exist among `skus` (unknown skus are simply absent). */
  getProducts(skus: readonly string[]): Promise<Map<string, Product>>;
  upsertPromotion(promotionId: string, input: PromotionInput): Promise<SellerPromotion>;
  upsertCampaign(campaignId: string, input: CampaignInput): Promise<CategoryCampaign>;
  getPricingConfig(): Promise<PricingConfig>;
  putPricingConfig(input: PricingConfigInput): Promise<PricingConfig>;
  /**
   * Builds the pricing engine's input for these lines from the catalog: current unit prices,
   * categories, sellers' shipping fees, active promotions and campaigns, tax and commission rates;
   * `vouchers` are the definitions to apply (in application order); no loyalty points. Throws a
   * ValidationError for an unknown sku, a duplicate sku or products of different currencies.
   */
  buildPricingInput(lines: readonly PricingRequestLine[], vouchers?: readonly VoucherInput[]): Promise<CatalogPricing>;
  /** The catalog data for pricing these skus (unknown skus are absent), in one query; see assemblePricingInput. */
  loadPricingData(skus: readonly string[]): Promise<PricingData>;
}

export interface CatalogDeps {
  pool: Pool;
  /** The sold-out gate (services/inventory/stock-gate.ts), refreshed after a product's stock is set. */
  stockGate?: Pick<StockGate, 'refreshSkus'>;
  /** Pays a seller's owed payouts once it has an account (services/index.ts wires payments in). */
  sellerPayouts?: SellerPayoutsHook;
}
