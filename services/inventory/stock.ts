/**
 * Stock levels of a SKU, read and set inside a caller's transaction. The catalog's product upsert
 * uses these so that a product and its `stock` are written together or not at all.
 */
import type { Pool, PoolClient } from 'pg';
import { toSafeInt } from '../../db/pool';
import { pgError, fieldError } from '../shared/validation';

/** The figures of api-contract.md's `stock`: onHand includes reserved units; available = onHand - reserved. */
export interface StockLevels {
  onHand: number;
  reserved: number;
  sold: number;
  available: number;
}

type Queryable = Pool | PoolClient;

interface StockRow {
  on_hand: string | null;
  reserved: string | null;
  sold: string | null;
}

export function toStockLevels(row: StockRow | undefined): StockLevels {
  const onHand = toSafeInt(row?.on_hand ?? 0);
  const reserved = toSafeInt(row?.reserved ?? 0);
  return { onHand, reserved, sold: toSafeInt(row?.sold ?? 0), available: onHand - reserved };
}

export const stockSumsSql = `SELECT sum(on_hand) AS on_hand, sum(reserved) AS reserved, sum(sold) AS sold
  FROM inventory_buckets WHERE sku = $1`;

export async function readStock(db: Queryable, sku: string): Promise<StockLevels> {
  const { rows } = await db.query<StockRow>(stockSumsSql, [sku]);
  return toStockLevels(rows[0]);
}

/**
 * Sets the on-hand units of a SKU (spread over its buckets). The SKU must exist in products.
 * Throws a ValidationError on `path` when fewer units than are reserved would remain.
 */
export async function setStockInTransaction(client: PoolClient, sku: string, onHand: number, path = 'stock'): Promise<void> {
  try {
    await client.query('SELECT inventory_set_stock($1, $2)', [sku, onHand]);
  } catch (err) {
    if (pgError(err)?.code === 'IV003') {
      throw fieldError(path, `must be at least the ${pgError(err)?.detail ?? '?'} units currently reserved`);
    }
    throw err;
  }
}

/** Creates the (empty) inventory of a new product; a no-op when it exists. */
export async function ensureInventoryInTransaction(client: PoolClient, sku: string): Promise<void> {
  await client.query('INSERT INTO inventory_items (sku) VALUES ($1) ON CONFLICT DO NOTHING', [sku]);
  await client.query('INSERT INTO inventory_buckets (sku, bucket_no, on_hand) VALUES ($1, 0, 0) ON CONFLICT DO NOTHING', [sku]);
}
