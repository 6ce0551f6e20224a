/**
 * The sold-out gate: a copy in Redis of each SKU's available units (on hand − reserved), so that
 * the API can refuse a checkout of a SKU known to be sold out (422 INSUFFICIENT_STOCK) in one Redis
 * round trip, before any saga or order row exists.
 *
 * Postgres stays the truth. The gate is refreshed from Postgres after every operation that changes
 * availability (reserve — refused or not —, release, commit, restock, stock changes, bucket
 * changes), so it is wrong only between a change and its refresh. A missing, unparsable or too old
 * entry means "unknown": the gate never refuses on missing data (Redis flushed = nothing refused;
 * the saga decides, and its reservation refreshes the entry).
 *
 * Ordering: concurrent refreshes of one SKU may finish out of order. Each refresh takes a number
 * from a Redis counter *before* it reads Postgres, and an entry is only replaced by a refresh with
 * a higher number. Any refresh numbered after a change's refresh started read Postgres after that
 * change committed, so once a change's refresh has finished the entry reflects that change (or a
 * later state) — an older read can never overwrite it.
 *
 * Keys (one hash tag, Redis Cluster safe): `stockgate:{v1}:avail` hash sku -> "available|gen|atMs",
 * `stockgate:{v1}:gen` the counter.
 */
import type { Pool } from 'pg';
import type { Redis } from 'ioredis';
import { toSafeInt } from '../../db/pool';
import { limits } from '../limits';
import { createBatcher } from '../shared/batcher';
import { LuaScript } from '../../lib/redis';

export const stockGateKeys = { avail: 'stockgate:{v1}:avail', gen: 'stockgate:{v1}:gen' } as const;

/** One line of INSUFFICIENT_STOCK's details (api-contract.md). */
export interface GateShortLine {
  sku: string;
  requested: number;
  available: number;
}

export interface StockGate {
  /** Re-reads the availability of these skus from Postgres and records it. */
  refreshSkus(skus: readonly string[]): Promise<void>;
  /** The same for every sku of an order's reservation (after release, commit, restock). */
  refreshOrder(orderId: string): Promise<void>;
  /** Available units per sku as recorded; a sku without a usable entry is absent (unknown). One HMGET. */
  read(skus: readonly string[]): Promise<Map<string, number>>;
  /** The lines known to be short (available known and below the requested quantity), in line order. */
  shortLines(lines: readonly { sku: string; quantity: number }[]): Promise<GateShortLine[]>;
}

export interface StockGateDeps {
  pool: Pool;
  redis: Redis;
  /** Epoch ms; injectable for the age backstop's tests. */
  nowMs?: () => number;
  ageMsMax?: number;
}

/**
 * record: KEYS avail; ARGV gen, atMs, then pairs (sku, available). Replaces an entry only when its
 * recorded gen is lower (or it is absent or malformed).
 */
const recordLua = `
local gen = tonumber(ARGV[1])
for i = 3, #ARGV, 2 do
  local current = redis.call('HGET', KEYS[1], ARGV[i])
  local currentGen = current and tonumber(string.match(current, '^%-?%d+|(%d+)|')) or nil
  if not currentGen or currentGen < gen then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1] .. '|' .. ARGV[1] .. '|' .. ARGV[2])
  end
end
return 1
`;
const recordScript = new LuaScript(recordLua, 1);

type RefreshItem = { sku: string } | { orderId: string };

export function createStockGate({ pool, redis, nowMs = () => Date.now(), ageMsMax = limits.stockGateAgeMsMax }: StockGateDeps): StockGate {
  // Refreshes that arrive while others run are gathered into one (one counter bump, one query, one
  // script for many skus); each caller is answered after the refresh that carries its item.
  const refresher = createBatcher<RefreshItem, void>(refreshBatch, {
    batchMax: limits.stockGateRefreshBatchMax,
    inFlightMax: limits.stockGateRefreshesInFlightMax,
  });

  async function refreshBatch(items: RefreshItem[]): Promise<void[]> {
    const skus = [...new Set(items.flatMap((i) => ('sku' in i ? [i.sku] : [])))];
    const orders = [...new Set(items.flatMap((i) => ('orderId' in i ? [i.orderId] : [])))];
    // The number first, then the read: see "Ordering" above.
    const gen = await redis.incr(stockGateKeys.gen);
    const { rows } = await pool.query<{ sku: string; available: string }>({
      name: 'stock_gate_read',
      text: `SELECT b.sku, sum(b.on_hand - b.reserved) AS available
               FROM inventory_buckets b
              WHERE b.sku = ANY (ARRAY(
                      SELECT json_array_elements_text($1::json)
                       UNION
                      SELECT r.sku FROM inventory_reservations r
                       WHERE r.order_id = ANY (ARRAY(SELECT json_array_elements_text($2::json)))))
              GROUP BY b.sku`,
      // JSON through an InitPlan: one generic plan for the prepared statement (see services/catalog/service.ts).
      values: [JSON.stringify(skus), JSON.stringify(orders)],
    });
    if (rows.length > 0) {
      await recordScript.run(redis, [stockGateKeys.avail], [gen, nowMs(), ...rows.flatMap((r) => [r.sku, toSafeInt(r.available)])]);
    }
    return items.map(() => undefined);
  }

  async function refreshSkus(skus: readonly string[]): Promise<void> {
    await Promise.all([...new Set(skus)].map((sku) => refresher.submit({ sku })));
  }

  async function refreshOrder(orderId: string): Promise<void> {
    await refresher.submit({ orderId });
  }

  async function read(skus: readonly string[]): Promise<Map<string, number>> {
    const known = new Map<string, number>();
    if (skus.length === 0) return known;
    const values = await redis.hmget(stockGateKeys.avail, ...skus);
    const oldest = nowMs() - ageMsMax;
    skus.forEach((sku, index) => {
      const match = /^(-?\d+)\|\d+\|(\d+)$/.exec(values[index] ?? '');
      if (match && Number(match[2]) >= oldest) known.set(sku, Number(match[1]));
    });
    return known;
  }

  async function shortLines(lines: readonly { sku: string; quantity: number }[]): Promise<GateShortLine[]> {
    const available = await read(lines.map((l) => l.sku));
    return lines.flatMap((line) => {
      const units = available.get(line.sku);
      return units !== undefined && units < line.quantity ? [{ sku: line.sku, requested: line.quantity, available: Math.max(0, units) }] : [];
    });
  }

  return { refreshSkus, refreshOrder, read, shortLines };
}
