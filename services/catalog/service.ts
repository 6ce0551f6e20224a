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
}

export interface CatalogDeps {
  pool: Pool;
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

export function createCatalogService({ pool }: CatalogDeps): CatalogService {
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
    const skus = requested.map((l) => l.sku);
    const { rows } = await pool.query<ProductRow & { shipping_fee_minor: string }>(
      `SELECT p.sku, p.seller_id, p.name, p.category, p.unit_price_minor, p.currency, s.shipping_fee_minor
         FROM products p JOIN sellers s ON s.seller_id = p.seller_id
        WHERE p.sku = ANY ($1::text[])`,
      [skus],
    );
    const bySku = new Map(rows.map((row) => [row.sku, row]));
    const ordered = requested.map((line, index) => ({ line, index, row: bySku.get(line.sku) }));
    const issues: FieldIssue[] = ordered.flatMap(({ line, index, row }) =>
      row ? [] : [{ path: `lines[${index}].sku`, message: `unknown sku ${line.sku}` }],
    );
    if (issues.length > 0) throw new ValidationError(issues);
    const found = ordered.map(({ line, index, row }) => ({ line, index, row: row as ProductRow & { shipping_fee_minor: string } }));
    const currency = found[0]?.row.currency ?? '';
    const mixed = found.filter(({ row }) => row.currency !== currency);
    if (mixed.length > 0) {
      throw new ValidationError(
        mixed.map(({ index, row }) => ({
          path: `lines[${index}].sku`,
          message: `product ${row.sku} is priced in ${row.currency}, the other lines in ${currency}: one currency per order`,
        })),
      );
    }
    const sellerIds = [...new Set(found.map(({ row }) => row.seller_id))];
    const categories = [...new Set(found.map(({ row }) => row.category))];
    const [promotions, campaigns, config] = await Promise.all([
      pool.query<PromotionRow>(
        `SELECT ${promotionColumns} FROM seller_promotions WHERE active AND seller_id = ANY ($1::text[]) ORDER BY position`,
        [sellerIds],
      ),
      pool.query<CampaignRow>(
        `SELECT ${campaignColumns} FROM category_campaigns
          WHERE active AND (seller_id IS NULL OR seller_id = ANY ($1::text[])) AND (category IS NULL OR category = ANY ($2::text[]))
          ORDER BY position`,
        [sellerIds, categories],
      ),
      readPricingConfig(pool),
    ]);
    const products = found.map(({ row }) => toProduct(row));
    const input: PricingInput = {
      currency,
      lines: found.map(({ line, row }) => ({
        lineId: line.sku,
        sku: line.sku,
        sellerId: row.seller_id,
        category: row.category,
        unitPrice: toSafeInt(row.unit_price_minor),
        quantity: line.quantity,
      })),
      sellerPromotions: promotions.rows.map(promotionInput),
      categoryCampaigns: campaigns.rows.map(campaignInput),
      vouchers: [...vouchers],
      shippingFees: Object.fromEntries(found.map(({ row }) => [row.seller_id, toSafeInt(row.shipping_fee_minor)])),
      taxRatesBps: config.taxRatesBps,
      defaultTaxRateBps: config.defaultTaxRateBps,
      commissionRatesBps: config.commissionRatesBps,
      defaultCommissionBps: config.defaultCommissionBps,
    };
    return { input, products };
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
  };
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
  return row ? toConfig(row) : { defaultTaxRateBps: 0, taxRatesBps: {}, defaultCommissionBps: 0, commissionRatesBps: {} };
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
