/**
 * The storefront's catalog read (GET /v1/products): products with their seller, the seller's
 * shipping fee and the units available now (on hand minus reserved, summed over the SKU's
 * inventory buckets), in SKU order with a keyset cursor. A read model over the catalog and
 * inventory tables: it writes nothing, so it reads the tables directly rather than going through
 * the catalog service one product at a time.
 */
import type { Pool } from 'pg';
import { toSafeInt } from '../db/pool';

export interface CatalogProduct {
  sku: string;
  name: string;
  category: string;
  /** Minor units of `currency`. */
  unitPrice: number;
  currency: string;
  sellerId: string;
  sellerName: string;
  /** The seller's shipping fee per order (minor units). */
  shippingFee: number;
  /** Units that can be ordered now: on hand minus reserved (never negative). */
  available: number;
}

export interface CatalogPage {
  products: CatalogProduct[];
  nextCursor?: string;
}

export interface CatalogListOptions {
  /** Only these sellers' products (absent: every seller). */
  sellerIds?: readonly string[];
  limit?: number;
  /** nextCursor of the previous page. */
  cursor?: string;
}

export interface CatalogViewPort {
  listProducts(options?: CatalogListOptions): Promise<CatalogPage>;
}

export const catalogListLimit = { default: 50, max: 100 } as const;

interface Row {
  sku: string;
  name: string;
  category: string;
  unit_price_minor: string;
  currency: string;
  seller_id: string;
  seller_name: string;
  shipping_fee_minor: string;
  available: string;
}

const listSql = `
SELECT p.sku, p.name, p.category, p.unit_price_minor, p.currency, p.seller_id,
       s.name AS seller_name, s.shipping_fee_minor,
       greatest(coalesce(st.on_hand, 0) - coalesce(st.reserved, 0), 0) AS available
  FROM products p
  JOIN sellers s ON s.seller_id = p.seller_id
  LEFT JOIN LATERAL (SELECT sum(b.on_hand) AS on_hand, sum(b.reserved) AS reserved
                       FROM inventory_buckets b WHERE b.sku = p.sku) st ON true
 WHERE ($1::text[] IS NULL OR p.seller_id = ANY ($1::text[]))
   AND ($2::text IS NULL OR p.sku > $2::text)
 ORDER BY p.sku
 LIMIT $3`;

/** The cursor is the last SKU of a page, opaque to clients. */
export function encodeCatalogCursor(sku: string): string {
  return Buffer.from(sku, 'utf8').toString('base64url');
}

/** The SKU of a cursor, or undefined when it is not one this API hands out. */
export function decodeCatalogCursor(cursor: string): string | undefined {
  if (!/^[A-Za-z0-9_-]{1,128}$/.test(cursor)) return undefined;
  const sku = Buffer.from(cursor, 'base64url').toString('utf8');
  return /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/.test(sku) && encodeCatalogCursor(sku) === cursor ? sku : undefined;
}

export function createCatalogView(pool: Pool): CatalogViewPort {
  return {
    async listProducts(options = {}) {
      const limit = Math.min(Math.max(options.limit ?? catalogListLimit.default, 1), catalogListLimit.max);
      const after = options.cursor === undefined ? null : (decodeCatalogCursor(options.cursor) ?? null);
      const sellers = options.sellerIds && options.sellerIds.length > 0 ? [...options.sellerIds] : null;
      // One row more than asked: whether there is a next page, without a count.
      const { rows } = await pool.query<Row>(listSql, [sellers, after, limit + 1]);
      const page = rows.slice(0, limit).map(
        (row): CatalogProduct => ({
          sku: row.sku,
          name: row.name,
          category: row.category,
          unitPrice: toSafeInt(row.unit_price_minor),
          currency: row.currency,
          sellerId: row.seller_id,
          sellerName: row.seller_name,
          shippingFee: toSafeInt(row.shipping_fee_minor),
          available: toSafeInt(row.available),
        }),
      );
      const last = page[page.length - 1];
      return rows.length > limit && last ? { products: page, nextCursor: encodeCatalogCursor(last.sku) } : { products: page };
    },
  };
}
