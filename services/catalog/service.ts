/**
 * Catalog: sellers, products (with their stock), seller promotions, category campaigns and the
 * pricing configuration, on Postgres. It also builds the pricing engine's input for a list of
 * {sku, quantity}: prices always come from here, never from a client.
 *
 * Every write is an upsert keyed by its business id (PUT semantics: repeating it changes nothing),
 * validated before anything is written; a product and its stock are written in one transaction.
 */
import type { Pool, PoolClient } from 'pg';
import { NotFoundError, ValidationError, type FieldIssue } from '../../lib/errors';
import { toSafeInt } from '../../db/pool';
import type { CategoryCampaignInput, PricingInput, SellerPromotionInput, VoucherInput } from '../../pricing';
import { ensureInventoryInTransaction, readStock, setStockInTransaction, type StockLevels } from '../inventory/stock';
import type { StockGate } from '../inventory/stock-gate';
import {
  campaignInputSchema,
  pricingConfigInputSchema,
  pricingLinesSchema,
  productInputSchema,
  promotionInputSchema,
  sellerInputSchema,
  type CampaignInput,
  type PricingConfigInput,
  type ProductInput,
  type PromotionInput,
  type SellerInput,
} from './schemas';
import { fieldError, identifierSchema, parseInput, pgError } from './validation';

export interface Seller {
  sellerId: string;
  name: string;
  /** Minor units of the order currency (a marketplace region trades in one currency). */
  shippingFee: number;
}

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
}

interface ProductRow {
  sku: string;
  seller_id: string;
  name: string;
  category: string;
  unit_price_minor: string;
  currency: string;
}

interface PromotionRow {
  promotion_id: string;
  seller_id: string;
  skus: string[] | null;
  discount_type: 'percent' | 'fixed_per_unit';
  rate_bps: number | null;
  amount_minor: string | null;
  active: boolean;
}

interface CampaignRow {
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

interface ConfigRow {
  default_tax_rate_bps: number;
  tax_rates_bps: Record<string, number>;
  default_commission_bps: number;
  commission_rates_bps: Record<string, number>;
}

const productColumns = 'sku, seller_id, name, category, unit_price_minor, currency';
const promotionColumns = 'promotion_id, seller_id, skus, discount_type, rate_bps, amount_minor, active';
const campaignColumns =
  'campaign_id, category, seller_id, discount_type, rate_bps, max_discount_minor, amount_minor, min_spend_minor, funded_by, active';

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

export function createCatalogService({ pool, stockGate }: CatalogDeps): CatalogService {
  async function upsertSeller(sellerId: string, input: SellerInput): Promise<Seller> {
    const id = parseInput(identifierSchema, sellerId, 'sellerId');
    const body = parseInput(sellerInputSchema, input);
    const { rows } = await pool.query<{ seller_id: string; name: string; shipping_fee_minor: string }>(
      `INSERT INTO sellers (seller_id, name, shipping_fee_minor) VALUES ($1, $2, $3)
       ON CONFLICT (seller_id) DO UPDATE SET name = excluded.name, shipping_fee_minor = excluded.shipping_fee_minor, updated_at = now()
       RETURNING seller_id, name, shipping_fee_minor`,
      [id, body.name, body.shippingFee],
    );
    return toSeller(single(rows));
  }

  async function getSeller(sellerId: string): Promise<Seller> {
    const id = parseInput(identifierSchema, sellerId, 'sellerId');
    const { rows } = await pool.query<{ seller_id: string; name: string; shipping_fee_minor: string }>(
      'SELECT seller_id, name, shipping_fee_minor FROM sellers WHERE seller_id = $1',
      [id],
    );
    const row = rows[0];
    if (!row) throw new NotFoundError('seller', id);
    return toSeller(row);
  }

  async function upsertProduct(sku: string, input: ProductInput): Promise<ProductWithStock> {
    const id = parseInput(identifierSchema, sku, 'sku');
    const body = parseInput(productInputSchema, input);
    await inTransaction(pool, async (client) => {
      try {
        await client.query(
          `INSERT INTO products (${productColumns}) VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (sku) DO UPDATE SET seller_id = excluded.seller_id, name = excluded.name, category = excluded.category,
             unit_price_minor = excluded.unit_price_minor, currency = excluded.currency, updated_at = now()`,
          [id, body.sellerId, body.name, body.category, body.unitPrice, body.currency],
        );
      } catch (err) {
        throw unknownSellerError(err, 'sellerId', body.sellerId) ?? err;
      }
      if (body.stock === undefined) await ensureInventoryInTransaction(client, id);
      else await setStockInTransaction(client, id, body.stock);
    });
    // After the commit: the gate must not keep refusing units an administrator just added. A
    // failed refresh fails the PUT, and repeating it (idempotent) refreshes again.
    await stockGate?.refreshSkus([id]);
    return getProduct(id);
  }

  async function getProduct(sku: string): Promise<ProductWithStock> {
    const id = parseInput(identifierSchema, sku, 'sku');
    const [products, stock] = await Promise.all([
      pool.query<ProductRow>(`SELECT ${productColumns} FROM products WHERE sku = $1`, [id]),
      readStock(pool, id),
    ]);
    const row = products.rows[0];
    if (!row) throw new NotFoundError('product', id);
    return { ...toProduct(row), stock };
  }

  async function getProducts(skus: readonly string[]): Promise<Map<string, Product>> {
    if (skus.length === 0) return new Map();
    const { rows } = await pool.query<ProductRow>(`SELECT ${productColumns} FROM products WHERE sku = ANY ($1::text[])`, [skus]);
    return new Map(rows.map((row) => [row.sku, toProduct(row)]));
  }

  async function upsertPromotion(promotionId: string, input: PromotionInput): Promise<SellerPromotion> {
    const id = parseInput(identifierSchema, promotionId, 'promotionId');
    const body = parseInput(promotionInputSchema, input);
    try {
      const { rows } = await pool.query<PromotionRow>(
        `INSERT INTO seller_promotions (promotion_id, seller_id, skus, discount_type, rate_bps, amount_minor, active)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (promotion_id) DO UPDATE SET seller_id = excluded.seller_id, skus = excluded.skus,
           discount_type = excluded.discount_type, rate_bps = excluded.rate_bps, amount_minor = excluded.amount_minor,
           active = excluded.active, updated_at = now()
         RETURNING ${promotionColumns}`,
        [
          id,
          body.sellerId,
          body.skus ?? null,
          body.type,
          body.type === 'percent' ? body.rateBps : null,
          body.type === 'fixed_per_unit' ? body.amount : null,
          body.active ?? true,
        ],
      );
      return toPromotion(single(rows));
    } catch (err) {
      throw unknownSellerError(err, 'sellerId', body.sellerId) ?? err;
    }
  }

  async function upsertCampaign(campaignId: string, input: CampaignInput): Promise<CategoryCampaign> {
    const id = parseInput(identifierSchema, campaignId, 'campaignId');
    const body = parseInput(campaignInputSchema, input);
    try {
      const { rows } = await pool.query<CampaignRow>(
        `INSERT INTO category_campaigns (campaign_id, category, seller_id, discount_type, rate_bps, max_discount_minor,
           amount_minor, min_spend_minor, funded_by, active)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (campaign_id) DO UPDATE SET category = excluded.category, seller_id = excluded.seller_id,
           discount_type = excluded.discount_type, rate_bps = excluded.rate_bps, max_discount_minor = excluded.max_discount_minor,
           amount_minor = excluded.amount_minor, min_spend_minor = excluded.min_spend_minor, funded_by = excluded.funded_by,
           active = excluded.active, updated_at = now()
         RETURNING ${campaignColumns}`,
        [
          id,
          body.category ?? null,
          body.sellerId ?? null,
          body.type,
          body.type === 'percent' ? body.rateBps : null,
          body.type === 'percent' ? (body.maxDiscount ?? null) : null,
          body.type === 'fixed' ? body.amount : null,
          body.minSpend ?? 0,
          body.fundedBy,
          body.active ?? true,
        ],
      );
      return toCampaign(single(rows));
    } catch (err) {
      throw unknownSellerError(err, 'sellerId', body.sellerId ?? '') ?? err;
    }
  }

  async function getPricingConfig(): Promise<PricingConfig> {
    return readPricingConfig(pool);
  }

  async function putPricingConfig(input: PricingConfigInput): Promise<PricingConfig> {
    const body = parseInput(pricingConfigInputSchema, input);
    const { rows } = await pool.query<ConfigRow>(
      `INSERT INTO pricing_config (singleton, default_tax_rate_bps, tax_rates_bps, default_commission_bps, commission_rates_bps)
       VALUES (true, $1, $2, $3, $4)
       ON CONFLICT (singleton) DO UPDATE SET default_tax_rate_bps = excluded.default_tax_rate_bps,
         tax_rates_bps = excluded.tax_rates_bps, default_commission_bps = excluded.default_commission_bps,
         commission_rates_bps = excluded.commission_rates_bps, updated_at = now()
       RETURNING default_tax_rate_bps, tax_rates_bps, default_commission_bps, commission_rates_bps`,
      [body.defaultTaxRateBps, JSON.stringify(body.taxRatesBps ?? {}), body.defaultCommissionBps, JSON.stringify(body.commissionRatesBps ?? {})],
    );
    return toConfig(single(rows));
  }

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

  return {
    upsertSeller,
    getSeller,
    upsertProduct,
    getProduct,
    getProducts,
    upsertPromotion,
    upsertCampaign,
    getPricingConfig,
    putPricingConfig,
    buildPricingInput,
    loadPricingData,
  };
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

function emptyConfig(): PricingConfig {
  return { defaultTaxRateBps: 0, taxRatesBps: {}, defaultCommissionBps: 0, commissionRatesBps: {} };
}

async function inTransaction(pool: Pool, work: (client: PoolClient) => Promise<void>): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await work(client);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

async function readPricingConfig(pool: Pool): Promise<PricingConfig> {
  const { rows } = await pool.query<ConfigRow>(
    'SELECT default_tax_rate_bps, tax_rates_bps, default_commission_bps, commission_rates_bps FROM pricing_config',
  );
  const row = rows[0];
  return row ? toConfig(row) : emptyConfig();
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
function unknownSellerError(err: unknown, path: string, sellerId: string): ValidationError | undefined {
  const fields = pgError(err);
  if (fields?.code === '23503' && (fields.constraint ?? '').includes('seller')) return fieldError(path, `unknown seller ${sellerId}`);
  return undefined;
}

function single<T>(rows: T[]): T {
  const row = rows[0];
  if (!row) throw new Error('expected one row');
  return row;
}

function toSeller(row: { seller_id: string; name: string; shipping_fee_minor: string }): Seller {
  return { sellerId: row.seller_id, name: row.name, shippingFee: toSafeInt(row.shipping_fee_minor) };
}

/** The display product of a priced product (without the shipping fee). */
function productOf(p: PricedProduct): Product {
  return { sku: p.sku, sellerId: p.sellerId, name: p.name, category: p.category, unitPrice: p.unitPrice, currency: p.currency };
}

function toProduct(row: ProductRow): Product {
  return {
    sku: row.sku,
    sellerId: row.seller_id,
    name: row.name,
    category: row.category,
    unitPrice: toSafeInt(row.unit_price_minor),
    currency: row.currency,
  };
}

function promotionInput(row: PromotionRow): SellerPromotionInput {
  const base = { id: row.promotion_id, sellerId: row.seller_id, ...(row.skus ? { skus: row.skus } : {}) };
  return row.discount_type === 'percent'
    ? { ...base, type: 'percent', rateBps: row.rate_bps ?? 0 }
    : { ...base, type: 'fixed_per_unit', amount: toSafeInt(row.amount_minor ?? 0) };
}

function toPromotion(row: PromotionRow): SellerPromotion {
  return { ...promotionInput(row), active: row.active };
}

function campaignInput(row: CampaignRow): CategoryCampaignInput {
  const base = { id: row.campaign_id, category: row.category, sellerId: row.seller_id, minSpend: toSafeInt(row.min_spend_minor), fundedBy: row.funded_by };
  return row.discount_type === 'percent'
    ? { ...base, type: 'percent', rateBps: row.rate_bps ?? 0, maxDiscount: row.max_discount_minor === null ? null : toSafeInt(row.max_discount_minor) }
    : { ...base, type: 'fixed', amount: toSafeInt(row.amount_minor ?? 0) };
}

function toCampaign(row: CampaignRow): CategoryCampaign {
  return { ...campaignInput(row), active: row.active };
}

function toConfig(row: ConfigRow): PricingConfig {
  return {
    defaultTaxRateBps: row.default_tax_rate_bps,
    taxRatesBps: row.tax_rates_bps,
    defaultCommissionBps: row.default_commission_bps,
    commissionRatesBps: row.commission_rates_bps,
  };
}
