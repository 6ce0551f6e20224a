/** The catalog's Postgres rows, their columns, and how they become the catalog's types. */
import type { Pool } from 'pg';
import { toSafeInt } from '../../db/pool';
import type { CategoryCampaignInput, SellerPromotionInput } from '../../pricing';
import type { CategoryCampaign, PricedProduct, PricingConfig, Product, Seller, SellerPromotion } from './types';

export interface ProductRow {
  sku: string;
  seller_id: string;
  name: string;
  category: string;
  unit_price_minor: string;
  currency: string;
}

export interface PromotionRow {
  promotion_id: string;
  seller_id: string;
  skus: string[] | null;
  discount_type: 'percent' | 'fixed_per_unit';
  rate_bps: number | null;
  amount_minor: string | null;
  active: boolean;
}

export interface CampaignRow {
  campaign_id: string;
  category: string | null;
  seller_id: string | null;
  discount_type: 'percent' | 'fixed';
  rate_bps: number | null;
  max_discount_minor: string | null;
  amount_minor: string | null;
  min_spend_minor: string;
  funded_by: 'seller' | 'platform';
  active: boolean;
}

export interface ConfigRow {
  default_tax_rate_bps: number;
  tax_rates_bps: Record<string, number>;
  default_commission_bps: number;
  commission_rates_bps: Record<string, number>;
}

export const productColumns = 'sku, seller_id, name, category, unit_price_minor, currency';
export const promotionColumns = 'promotion_id, seller_id, skus, discount_type, rate_bps, amount_minor, active';
export const campaignColumns =
  'campaign_id, category, seller_id, discount_type, rate_bps, max_discount_minor, amount_minor, min_spend_minor, funded_by, active';

export function emptyConfig(): PricingConfig {
  return { defaultTaxRateBps: 0, taxRatesBps: {}, defaultCommissionBps: 0, commissionRatesBps: {} };
}

export async function readPricingConfig(pool: Pool): Promise<PricingConfig> {
  const { rows } = await pool.query<ConfigRow>(
    'SELECT default_tax_rate_bps, tax_rates_bps, default_commission_bps, commission_rates_bps FROM pricing_config',
  );
  const row = rows[0];
  return row ? toConfig(row) : emptyConfig();
}

export function single<T>(rows: T[]): T {
  const row = rows[0];
  if (!row) throw new Error('expected one row');
  return row;
}

export interface SellerRow {
  seller_id: string;
  name: string;
  shipping_fee_minor: string;
  stripe_account_id: string | null;
}

export const sellerColumns = 'seller_id, name, shipping_fee_minor, stripe_account_id';

export function toSeller(row: SellerRow): Seller {
  return {
    sellerId: row.seller_id,
    name: row.name,
    shippingFee: toSafeInt(row.shipping_fee_minor),
    ...(row.stripe_account_id ? { stripeAccountId: row.stripe_account_id } : {}),
  };
}

/** The display product of a priced product (without the shipping fee). */
export function productOf(p: PricedProduct): Product {
  return { sku: p.sku, sellerId: p.sellerId, name: p.name, category: p.category, unitPrice: p.unitPrice, currency: p.currency };
}

export function toProduct(row: ProductRow): Product {
  return {
    sku: row.sku,
    sellerId: row.seller_id,
    name: row.name,
    category: row.category,
    unitPrice: toSafeInt(row.unit_price_minor),
    currency: row.currency,
  };
}

export function promotionInput(row: PromotionRow): SellerPromotionInput {
  const base = { id: row.promotion_id, sellerId: row.seller_id, ...(row.skus ? { skus: row.skus } : {}) };
  return row.discount_type === 'percent'
    ? { ...base, type: 'percent', rateBps: row.rate_bps ?? 0 }
    : { ...base, type: 'fixed_per_unit', amount: toSafeInt(row.amount_minor ?? 0) };
}

export function toPromotion(row: PromotionRow): SellerPromotion {
  return { ...promotionInput(row), active: row.active };
}

export function campaignInput(row: CampaignRow): CategoryCampaignInput {
  const base = { id: row.campaign_id, category: row.category, sellerId: row.seller_id, minSpend: toSafeInt(row.min_spend_minor), fundedBy: row.funded_by };
  return row.discount_type === 'percent'
    ? { ...base, type: 'percent', rateBps: row.rate_bps ?? 0, maxDiscount: row.max_discount_minor === null ? null : toSafeInt(row.max_discount_minor) }
    : { ...base, type: 'fixed', amount: toSafeInt(row.amount_minor ?? 0) };
}

export function toCampaign(row: CampaignRow): CategoryCampaign {
  return { ...campaignInput(row), active: row.active };
}

export function toConfig(row: ConfigRow): PricingConfig {
  return {
    defaultTaxRateBps: row.default_tax_rate_bps,
    taxRatesBps: row.tax_rates_bps,
    defaultCommissionBps: row.default_commission_bps,
    commissionRatesBps: row.commission_rates_bps,
  };
}
