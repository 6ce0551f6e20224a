/**
 * Catalog administration: sellers, products (with their stock), seller promotions, category
 * campaigns and the pricing configuration. Every write is an upsert keyed by its business id (PUT
 * semantics: repeating it changes nothing), validated before anything is written; a product and
 * its stock are written in one transaction.
 */
import { NotFoundError, type ValidationError } from '../../lib/errors';
import { inTransaction } from '../../db/pool';
import { ensureInventoryInTransaction, readStock, setStockInTransaction } from '../inventory';
import { fieldError, identifierSchema, parseInput, pgError } from '../shared/validation';
import {
  campaignColumns,
  productColumns,
  promotionColumns,
  readPricingConfig,
  sellerColumns,
  single,
  toCampaign,
  toConfig,
  toProduct,
  toPromotion,
  toSeller,
  type CampaignRow,
  type ConfigRow,
  type ProductRow,
  type PromotionRow,
  type SellerRow,
} from './rows';
import {
  campaignInputSchema,
  pricingConfigInputSchema,
  productInputSchema,
  promotionInputSchema,
  sellerInputSchema,
  type CampaignInput,
  type PricingConfigInput,
  type ProductInput,
  type PromotionInput,
  type SellerInput,
} from './schemas';
import { withPendingPayouts, type CatalogDeps, type CatalogService, type CategoryCampaign, type PricingConfig, type Product, type ProductWithStock, type Seller, type SellerPromotion } from './types';

type CatalogAdmin = Omit<CatalogService, 'buildPricingInput' | 'loadPricingData'>;

export function createCatalogAdmin({ pool, stockGate, sellerPayouts }: CatalogDeps): CatalogAdmin {
  async function upsertSeller(sellerId: string, input: SellerInput): Promise<Seller> {
    const id = parseInput(identifierSchema, sellerId, 'sellerId');
    const body = parseInput(sellerInputSchema, input);
    // stripeAccountId absent keeps the seller's account: a PUT that only renames must not stop its payouts.
    const { rows } = await pool.query<SellerRow>(
      `INSERT INTO sellers (seller_id, name, shipping_fee_minor, stripe_account_id) VALUES ($1, $2, $3, $5)
       ON CONFLICT (seller_id) DO UPDATE SET name = excluded.name, shipping_fee_minor = excluded.shipping_fee_minor,
         stripe_account_id = CASE WHEN $4::boolean THEN excluded.stripe_account_id ELSE sellers.stripe_account_id END, updated_at = now()
       RETURNING ${sellerColumns}`,
      [id, body.name, body.shippingFee, body.stripeAccountId !== undefined, body.stripeAccountId ?? null],
    );
    const seller = toSeller(single(rows));
    if (!sellerPayouts) return seller;
    // After the commit: a transfer is never made inside the seller's write. A failed transfer stays
    // owed and listed here; repeating the PUT (idempotent) retries it with the same key.
    const { unpaid } = await sellerPayouts(id);
    return withPendingPayouts(seller, unpaid);
  }

  async function getSeller(sellerId: string): Promise<Seller> {
    const id = parseInput(identifierSchema, sellerId, 'sellerId');
    const { rows } = await pool.query<SellerRow>(`SELECT ${sellerColumns} FROM sellers WHERE seller_id = $1`, [id]);
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

  return { upsertSeller, getSeller, upsertProduct, getProduct, getProducts, upsertPromotion, upsertCampaign, getPricingConfig, putPricingConfig };
}

function unknownSellerError(err: unknown, path: string, sellerId: string): ValidationError | undefined {
  const fields = pgError(err);
  if (fields?.code === '23503' && (fields.constraint ?? '').includes('seller')) return fieldError(path, `unknown seller ${sellerId}`);
  return undefined;
}
