/**
 * The hot path of every checkout and cart change: the pricing engine's input for a list of
 * {sku, quantity}, from catalog prices (never a client's), in one prepared statement.
 */
import type { Pool } from 'pg';
import { ValidationError, type FieldIssue } from '../../lib/errors';
import { toSafeInt } from '../../db/pool';
import type { PricingInput, VoucherInput } from '../../pricing';
import { parseInput } from '../shared/validation';
import { campaignInput, emptyConfig, productOf, promotionInput, single, toConfig, toProduct, type CampaignRow, type ConfigRow, type ProductRow, type PromotionRow } from './rows';
import { pricingLinesSchema } from './schemas';
import type { CatalogPricing, CatalogService, PricedProduct, PricingData, PricingRequestLine } from './types';

/**
 * One statement: products with shipping fees, promotions, campaigns and the rates (bigints as text).
 * The skus come as a JSON array turned into an array by an InitPlan: the planner's estimates then
 * do not depend on the parameter, so after five executions Postgres keeps one generic plan for the
 * prepared statement instead of planning it afresh on every call (a text[] parameter compared with
 * `= ANY` kept it on custom plans: about 0.5 ms of planning per call, measured).
 */
const pricingDataSql = `
WITH p AS (
  SELECT p.sku, p.seller_id, p.name, p.category, p.unit_price_minor::text AS unit_price_minor, p.currency,
         s.shipping_fee_minor::text AS shipping_fee_minor
    FROM products p JOIN sellers s ON s.seller_id = p.seller_id
   WHERE p.sku = ANY (ARRAY(SELECT json_array_elements_text($1::json))))
SELECT
  (SELECT coalesce(json_agg(p), '[]'::json) FROM p) AS products,
  (SELECT coalesce(json_agg(x ORDER BY x.position), '[]'::json) FROM (
     SELECT promotion_id, seller_id, skus, discount_type, rate_bps, amount_minor::text AS amount_minor, active, position
       FROM seller_promotions
      WHERE active AND seller_id IN (SELECT seller_id FROM p)) x) AS promotions,
  (SELECT coalesce(json_agg(x ORDER BY x.position), '[]'::json) FROM (
     SELECT campaign_id, category, seller_id, discount_type, rate_bps, max_discount_minor::text AS max_discount_minor,
            amount_minor::text AS amount_minor, min_spend_minor::text AS min_spend_minor, funded_by, active, position
       FROM category_campaigns
      WHERE active AND (seller_id IS NULL OR seller_id IN (SELECT seller_id FROM p))
        AND (category IS NULL OR category IN (SELECT category FROM p))) x) AS campaigns,
  (SELECT row_to_json(c) FROM (
     SELECT default_tax_rate_bps, tax_rates_bps, default_commission_bps, commission_rates_bps FROM pricing_config) c) AS config`;

export function createPricingInput(pool: Pool): Pick<CatalogService, 'buildPricingInput' | 'loadPricingData'> {
  async function buildPricingInput(lines: readonly PricingRequestLine[], vouchers: readonly VoucherInput[] = []): Promise<CatalogPricing> {
    const requested = parseInput(pricingLinesSchema, lines, 'lines');
    rejectDuplicates(requested);
    const data = await loadPricingData(requested.map((l) => l.sku));
    return assemblePricingInput(requested, data, vouchers);
  }

  async function loadPricingData(skus: readonly string[]): Promise<PricingData> {
    const { rows } = await pool.query<{
      products: (ProductRow & { shipping_fee_minor: string })[];
      promotions: PromotionRow[];
      campaigns: CampaignRow[];
      config: ConfigRow | null;
    }>({ name: 'catalog_pricing_data', text: pricingDataSql, values: [JSON.stringify(skus)] });
    const row = single(rows);
    return {
      products: new Map(row.products.map((p) => [p.sku, { ...toProduct(p), shippingFee: toSafeInt(p.shipping_fee_minor) }])),
      promotions: row.promotions.map(promotionInput),
      campaigns: row.campaigns.map(campaignInput),
      config: row.config ? toConfig(row.config) : emptyConfig(),
    };
  }

  return { buildPricingInput, loadPricingData };
}

/**
 * The engine's input for `lines` (in the caller's order; lineId = sku) from data loaded with
 * loadPricingData: catalog prices and categories, the shipping fees of the sellers present, the
 * promotions, campaigns and rates, the given vouchers in order, no loyalty. Throws a
 * ValidationError (`lines[i].sku`) for a sku absent from the data or products of different
 * currencies. Pure: the cart prices a would-be cart with it before writing anything.
 */
export function assemblePricingInput(lines: readonly PricingRequestLine[], data: PricingData, vouchers: readonly VoucherInput[] = []): CatalogPricing {
  const ordered = lines.map((line, index) => ({ line, index, product: data.products.get(line.sku) }));
  const issues: FieldIssue[] = ordered.flatMap(({ line, index, product }) =>
    product ? [] : [{ path: `lines[${index}].sku`, message: `unknown sku ${line.sku}` }],
  );
  if (issues.length > 0) throw new ValidationError(issues);
  const found = ordered.map(({ line, index, product }) => ({ line, index, product: product as PricedProduct }));
  const currency = found[0]?.product.currency ?? '';
  const mixed = found.filter(({ product }) => product.currency !== currency);
  if (mixed.length > 0) {
    throw new ValidationError(
      mixed.map(({ index, product }) => ({
        path: `lines[${index}].sku`,
        message: `product ${product.sku} is priced in ${product.currency}, the other lines in ${currency}: one currency per order`,
      })),
    );
  }
  const input: PricingInput = {
    currency,
    lines: found.map(({ line, product }) => ({
      lineId: line.sku,
      sku: line.sku,
      sellerId: product.sellerId,
      category: product.category,
      unitPrice: product.unitPrice,
      quantity: line.quantity,
    })),
    sellerPromotions: data.promotions,
    categoryCampaigns: data.campaigns,
    vouchers: [...vouchers],
    shippingFees: Object.fromEntries(found.map(({ product }) => [product.sellerId, product.shippingFee])),
    taxRatesBps: data.config.taxRatesBps,
    defaultTaxRateBps: data.config.defaultTaxRateBps,
    commissionRatesBps: data.config.commissionRatesBps,
    defaultCommissionBps: data.config.defaultCommissionBps,
  };
  return { input, products: found.map(({ product }) => productOf(product)) };
}

function rejectDuplicates(lines: readonly PricingRequestLine[]): void {
  const seen = new Set<string>();
  const issues: FieldIssue[] = [];
  lines.forEach((line, index) => {
    if (seen.has(line.sku)) issues.push({ path: `lines[${index}].sku`, message: `duplicate sku ${line.sku}: one line per sku` });
    seen.add(line.sku);
  });
  if (issues.length > 0) throw new ValidationError(issues);
}

/** A foreign-key violation on the seller: the named seller does not exist (nothing was written). */
