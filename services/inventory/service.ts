/**
 * Inventory: reserve, release, commit and restock stock per (order, sku), on Postgres.
 *
 * Every operation is one call of a SQL function (db/migrations/0011_inventory.sql), executed as a
 * single statement and therefore as one transaction: the row lock on a hot SKU is held from its
 * conditional UPDATE to the commit with no network round trip in between, a crash mid-call leaves
 * nothing behind, and a retried call finds the outcome recorded under its business key.
 *
 * Each action sits next to its compensation: reserve / release; commit (reserved -> sold) /
 * restock (sold -> on hand, for a refunded parcel).
 */
import { setTimeout as delay } from 'node:timers/promises';
import { SpanStatusCode, trace } from '@opentelemetry/api';
import type { Pool } from 'pg';
import { z } from 'zod';
import { BusinessError, NotFoundError, ValidationError } from '../../lib/errors';
import { toSafeInt } from '../../db/pool';
import { limits } from '../limits';
import { externalIdSchema, fieldError, identifierSchema, parseInput, pgError, quantitySchema } from '../shared/validation';
import { createTransactionPipeline, type PipelinedStatement } from './pipeline';
import { readStock, type StockLevels } from './stock';
import type { StockGate } from './stock-gate';

export type { StockLevels } from './stock';

export interface ReserveLine {
  sku: string;
  quantity: number;
}

/** Who a reservation is for, named in its trace span only (the checkout reserves one call per seller). */
export interface ReserveScope {
  sellerId?: string;
}

export type ReservationLineStatus = 'reserved' | 'released' | 'committed' | 'restocked';

export interface ReservationLine {
  sku: string;
  quantity: number;
  /** `reserved` for a fresh reservation; a retry reports what became of the lines since. */
  status: ReservationLineStatus;
}

export interface Reservation {
  orderId: string;
  /** In sku order. */
  lines: ReservationLine[];
}

/** One line of INSUFFICIENT_STOCK's details (api-contract.md). */
export interface ShortLine {
  sku: string;
  requested: number;
  available: number;
}

/** The lines an operation moved (empty when a repeated call had nothing left to do). */
export interface StockMovement {
  orderId: string;
  lines: { sku: string; quantity: number }[];
}

export interface BucketLevels {
  bucketNo: number;
  onHand: number;
  reserved: number;
  sold: number;
}

export interface StockLayout {
  sku: string;
  /** Buckets taking new reservations (1 = a single row). */
  bucketCount: number;
  stock: StockLevels;
  buckets: BucketLevels[];
}

export interface InventoryService {
  /**
   * Reserves every line or none. Idempotent per (orderId, sku): a retry with the same lines returns
   * the recorded outcome (the same reservation, or the same INSUFFICIENT_STOCK refusal) and never
   * reserves twice. Throws BusinessError INSUFFICIENT_STOCK (details.lines: every short line),
   * RESERVATION_CONFLICT (this order has other lines/quantities recorded) or INVALID_STATE (the
   * order was already released or committed); ValidationError for bad input or an unknown sku.
   */
  reserve(orderId: string, lines: readonly ReserveLine[], scope?: ReserveScope): Promise<Reservation>;
  /** Compensation of reserve: returns the order's reserved units; closes the order to new reservations. */
  release(orderId: string): Promise<StockMovement>;
  /** Reserved units become sold. Throws INVALID_STATE when the order was released. */
  commit(orderId: string): Promise<StockMovement>;
  /** A refunded parcel: the seller's sold units of the order go back on hand. */
  restock(orderId: string, sellerId: string): Promise<StockMovement>;
  getStock(sku: string): Promise<StockLevels>;
  /** Sets the on-hand units (spread over the buckets). Refuses fewer than are reserved. */
  setStock(sku: string, onHand: number): Promise<StockLevels>;
  /** Splits a hot SKU's stock over `bucketCount` rows (1 = single row), losslessly. */
  setBucketCount(sku: string, bucketCount: number): Promise<StockLayout>;
  /** Spreads the available units evenly over the buckets again, losslessly. */
  rebalance(sku: string): Promise<StockLayout>;
  getLayout(sku: string): Promise<StockLayout>;
}

export interface InventoryDeps {
  pool: Pool;
  /**
   * Reserve round trips in flight at once (default limits.reserveBatchesInFlightMax); calls beyond
   * them share round trips (see ./pipeline.ts). Also the most sessions this instance queues on a row.
   */
  reserveInFlightMax?: number;
  /**
   * The sold-out gate (./stock-gate.ts), refreshed after every operation that changes availability.
   * Absent: no gate (benchmarks, tools).
   */
  stockGate?: Pick<StockGate, 'refreshSkus' | 'refreshOrder'>;
}

const reserveSchema = z.object({
  orderId: externalIdSchema,
  lines: z
    .array(z.strictObject({ sku: identifierSchema, quantity: quantitySchema }))
    .min(1, 'must hold at least one line')
    .max(limits.reserveLinesMax, `must hold at most ${limits.reserveLinesMax} lines`),
});

interface OutcomeLine {
  sku: string;
  quantity: number;
  status: ReservationLineStatus | 'rejected';
  available: number | null;
}

interface ReserveRow {
  status: 'reserved' | 'rejected' | 'conflict' | 'closed' | 'unknown' | 'busy';
  /** Recorded lines, or for `unknown` the unknown skus. */
  lines: OutcomeLine[] | string[] | null;
}

/** One reserve call as a statement of the transaction pipeline (values are validated before). */
function reserveStatement(orderId: string, skus: readonly string[], quantities: readonly number[]): PipelinedStatement {
  return {
    name: 'inventory_reserve',
    text: 'SELECT status, lines FROM inventory_reserve($1, $2::text[], $3::bigint[])',
    values: [orderId, skus, quantities],
    inline: (literal) =>
      `SELECT status, lines FROM inventory_reserve(${literal(orderId)}, ARRAY[${skus.map(literal).join(', ')}]::text[], ` +
      `ARRAY[${quantities.map((q) => String(Math.trunc(q))).join(', ')}]::bigint[])`,
  };
}

const tracer = trace.getTracer('checkout-inventory');

export function createInventoryService({ pool, reserveInFlightMax = limits.reserveBatchesInFlightMax, stockGate }: InventoryDeps): InventoryService {
  if (!Number.isInteger(reserveInFlightMax) || reserveInFlightMax < 1) throw new RangeError('reserveInFlightMax must be a positive integer');
  const pipeline = createTransactionPipeline<ReserveRow>(pool, { batchMax: limits.reserveBatchMax, inFlightMax: reserveInFlightMax });

  /**
   * After a reserve or commit the gate can only be too optimistic until refreshed (availability went
   * down or stayed), which makes the API let a checkout through for the saga to decide: harmless,
   * so a failed refresh does not fail the operation. After a release, restock or stock change it
   * could wrongly refuse sellable units: there a failed refresh fails the call, and its retry (the
   * operations are idempotent) refreshes again.
   */
  async function refreshQuietly(refresh: () => Promise<void>): Promise<void> {
    await refresh().catch(() => undefined);
  }

  /**
   * One span per call, so per seller in a checkout (the calls run side by side): a no-op while
   * tracing is off (@opentelemetry/api without an SDK). docs/tracing.md.
   */
  async function reserve(orderId: string, lines: readonly ReserveLine[], scope: ReserveScope = {}): Promise<Reservation> {
    const attributes = {
      'order.id': orderId,
      'inventory.line_count': lines.length,
      'inventory.skus': lines.map((line) => line.sku),
      ...(scope.sellerId === undefined ? {} : { 'seller.id': scope.sellerId }),
    };
    return tracer.startActiveSpan('inventory.reserve', { attributes }, async (span) => {
      try {
        return await reserveUntraced(orderId, lines);
      } catch (err) {
        if (err instanceof BusinessError) span.setAttribute('checkout.refusal_code', err.code);
        span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
        throw err;
      } finally {
        span.end();
      }
    });
  }

  async function reserveUntraced(orderId: string, lines: readonly ReserveLine[]): Promise<Reservation> {
    const input = parseInput(reserveSchema, { orderId, lines });
    rejectDuplicateSkus(input.lines);
    const skus = input.lines.map((l) => l.sku);
    try {
      return await reserveParsed(input, skus);
    } finally {
      // Refused or not: a refusal tells the gate that these skus are short right now.
      if (stockGate) await refreshQuietly(() => stockGate.refreshSkus(skus));
    }
  }

  async function reserveParsed(input: { orderId: string; lines: ReserveLine[] }, skus: string[]): Promise<Reservation> {
    const quantities = input.lines.map((l) => l.quantity);
    const statement = reserveStatement(input.orderId, skus, quantities);
    for (let attempt = 1; ; attempt += 1) {
      const row = (await pipeline.run(statement))[0];
      if (!row) throw new Error('inventory_reserve returned no row');
      // busy: a bucketed SKU's units were in rows other calls held; the call wrote nothing.
      if (row.status !== 'busy') return toReservation(input.orderId, input.lines, row);
      if (attempt >= limits.reserveBusyRetriesMax) throw new Error(`inventory for order ${input.orderId} stayed busy; retry`);
      await delay(1 + Math.floor(Math.random() * Math.min(limits.reserveBusyBackoffMsMax, 2 ** attempt)));
    }
  }

  async function release(orderId: string): Promise<StockMovement> {
    const id = parseOrderId(orderId);
    const moved = await movement('SELECT sku, quantity FROM inventory_release($1)', [id]);
    // By order, not by moved lines: a retry after a failed refresh moves nothing but must refresh.
    await stockGate?.refreshOrder(id);
    return moved;
  }

  async function commit(orderId: string): Promise<StockMovement> {
    const id = parseOrderId(orderId);
    let moved: StockMovement;
    try {
      moved = await movement('SELECT sku, quantity FROM inventory_commit($1)', [id]);
    } catch (err) {
      if (pgError(err)?.code === 'IV002') {
        throw new BusinessError('INVALID_STATE', `order ${id} was released; its reservation cannot be committed`, { orderId: id });
      }
      throw err;
    }
    if (stockGate) await refreshQuietly(() => stockGate.refreshOrder(id));
    return moved;
  }

  async function restock(orderId: string, sellerId: string): Promise<StockMovement> {
    const input = parseInput(z.object({ orderId: externalIdSchema, sellerId: identifierSchema }), { orderId, sellerId });
    const moved = await movement('SELECT sku, quantity FROM inventory_restock($1, $2)', [input.orderId, input.sellerId]);
    await stockGate?.refreshOrder(input.orderId);
    return moved;
  }

  async function movement(sql: string, values: string[]): Promise<StockMovement> {
    const { rows } = await pool.query<{ sku: string; quantity: string }>(sql, values);
    return { orderId: values[0] ?? '', lines: rows.map((r) => ({ sku: r.sku, quantity: toSafeInt(r.quantity) })) };
  }

  async function getStock(sku: string): Promise<StockLevels> {
    return (await getLayout(sku)).stock;
  }

  async function setStock(sku: string, onHand: number): Promise<StockLevels> {
    const input = parseInput(z.object({ sku: identifierSchema, onHand: z.int().min(0).max(limits.stockUnitsMax) }), { sku, onHand });
    await callSkuFunction('SELECT inventory_set_stock($1, $2)', [input.sku, input.onHand], input.sku, 'onHand');
    await stockGate?.refreshSkus([input.sku]);
    return readStock(pool, input.sku);
  }

  async function setBucketCount(sku: string, bucketCount: number): Promise<StockLayout> {
    const input = parseInput(z.object({ sku: identifierSchema, bucketCount: z.int().min(1).max(limits.bucketCountMax) }), {
      sku,
      bucketCount,
    });
    await callSkuFunction('SELECT inventory_set_bucket_count($1, $2)', [input.sku, input.bucketCount], input.sku);
    await stockGate?.refreshSkus([input.sku]);
    return getLayout(input.sku);
  }

  async function rebalance(sku: string): Promise<StockLayout> {
    const id = parseInput(identifierSchema, sku, 'sku');
    await callSkuFunction('SELECT inventory_rebalance($1)', [id], id);
    await stockGate?.refreshSkus([id]);
    return getLayout(id);
  }

  async function callSkuFunction(sql: string, values: (string | number)[], sku: string, stockPath = 'stock'): Promise<void> {
    try {
      await pool.query(sql, values);
    } catch (err) {
      const code = pgError(err)?.code;
      if (code === 'IV001' || code === '23503') throw new NotFoundError('sku', sku);
      if (code === 'IV003') throw fieldError(stockPath, `must be at least the ${pgError(err)?.detail ?? '?'} units currently reserved`);
      throw err;
    }
  }

  async function getLayout(sku: string): Promise<StockLayout> {
    const id = parseInput(identifierSchema, sku, 'sku');
    const { rows } = await pool.query<{ bucket_count: number; bucket_no: number | null; on_hand: string; reserved: string; sold: string }>(
      `SELECT i.bucket_count, b.bucket_no, b.on_hand, b.reserved, b.sold
         FROM inventory_items i LEFT JOIN inventory_buckets b ON b.sku = i.sku
        WHERE i.sku = $1 ORDER BY b.bucket_no`,
      [id],
    );
    const first = rows[0];
    if (!first) throw new NotFoundError('sku', id);
    const buckets = rows.flatMap((r) =>
      r.bucket_no === null
        ? []
        : [{ bucketNo: r.bucket_no, onHand: toSafeInt(r.on_hand), reserved: toSafeInt(r.reserved), sold: toSafeInt(r.sold) }],
    );
    const onHand = buckets.reduce((sum, b) => sum + b.onHand, 0);
    const reserved = buckets.reduce((sum, b) => sum + b.reserved, 0);
    const sold = buckets.reduce((sum, b) => sum + b.sold, 0);
    return { sku: id, bucketCount: first.bucket_count, stock: { onHand, reserved, sold, available: onHand - reserved }, buckets };
  }

  return { reserve, release, commit, restock, getStock, setStock, setBucketCount, rebalance, getLayout };
}


function parseOrderId(orderId: string): string {
  return parseInput(externalIdSchema, orderId, 'orderId');
}

function rejectDuplicateSkus(lines: readonly ReserveLine[]): void {
  const seen = new Set<string>();
  lines.forEach((line, index) => {
    if (seen.has(line.sku)) throw fieldError(`lines[${index}].sku`, `duplicate sku ${line.sku}: one line per sku`);
    seen.add(line.sku);
  });
}

/** The unknown skus of a reserve call, as field issues (nothing was written). */
function unknownSkuError(requested: readonly ReserveLine[], unknown: readonly string[]): ValidationError {
  const issues = requested.flatMap((line, index) => (unknown.includes(line.sku) ? [{ path: `lines[${index}].sku`, message: `unknown sku ${line.sku}` }] : []));
  return new ValidationError(issues.length > 0 ? issues : [{ path: 'lines', message: 'unknown sku' }]);
}

function toReservation(orderId: string, requested: readonly ReserveLine[], row: ReserveRow): Reservation {
  const recorded = (row.lines ?? []) as OutcomeLine[];
  switch (row.status) {
    case 'unknown':
      throw unknownSkuError(requested, (row.lines ?? []) as string[]);
    case 'busy':
      throw new Error('busy outcome reached toReservation');
    case 'reserved': {
      const lines = row.lines
        ? recorded.map((l) => ({ sku: l.sku, quantity: l.quantity, status: l.status as ReservationLineStatus }))
        : [...requested].sort(bySku).map((l) => ({ sku: l.sku, quantity: l.quantity, status: 'reserved' as const }));
      return { orderId, lines };
    }
    case 'rejected': {
      const short: ShortLine[] = recorded.flatMap((l) =>
        l.available === null ? [] : [{ sku: l.sku, requested: l.quantity, available: l.available }],
      );
      const list = short.map((l) => `${l.sku} (requested ${l.requested}, available ${l.available})`).join(', ');
      return throwBusiness('INSUFFICIENT_STOCK', `insufficient stock for order ${orderId}: ${list}`, { lines: short });
    }
    case 'conflict':
      return throwBusiness(
        'RESERVATION_CONFLICT',
        `order ${orderId} already has reservations that differ from these lines`,
        { orderId, recorded },
      );
    case 'closed':
      return throwBusiness('INVALID_STATE', `order ${orderId} was already released or committed; nothing new is reserved`, { orderId });
  }
}

function throwBusiness(code: string, message: string, details: Record<string, unknown>): never {
  throw new BusinessError(code, message, details);
}

function bySku(a: { sku: string }, b: { sku: string }): number {
  return a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0;
}
