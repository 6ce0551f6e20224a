/**
 * Orders: the read model of the checkout saga, and the checkout's idempotency record.
 * Every write is idempotent by the order id (and the buyer's idempotency key), enforced by
 * primary / unique keys; status changes are conditional updates that never leave a terminal state.
 */
import type { Pool } from 'pg';
import { BusinessError, NotFoundError, ValidationError } from '../../lib/errors';
import { toSafeInt } from '../../db/pool';
import type { LineBreakdown, PriceBreakdown } from '../../pricing';
import type { CheckoutFailure, OrderStatus, ParcelProblem, ParcelStatus } from '../../lib/vocabulary';

export interface ParcelRecord {
  sellerId: string;
  status: ParcelStatus;
  customerPaid: number;
  payout: number;
  shipBy: string;
  autoReleaseAt?: string;
  /** A refused money move waiting for an operator. */
  problem?: ParcelProblem;
  /** The workflow that holds the parcel: `checkout:<orderId>`, or absent for the legacy `parcel:<orderId>:<sellerId>`. */
  escrowWorkflowId?: string;
}

export interface OrderRecord {
  orderId: string;
  userId: string;
  status: OrderStatus;
  failure?: CheckoutFailure;
  pricing?: PriceBreakdown;
  currency?: string;
  grandTotal?: number;
  parcels: ParcelRecord[];
  createdAt: string;
  updatedAt: string;
}

/** A parcel as its seller lists it: the parcel with the seller's own lines of the frozen price. */
export interface SellerParcelRecord extends ParcelRecord {
  orderId: string;
  /** The seller's lines of the order's frozen price breakdown (pricing-spec.md §4), in order. */
  lines: LineBreakdown[];
  currency: string | null;
  /** When the parcel was created (the order was paid and its escrow opened). */
  createdAt: string;
}

export interface SellerParcelPage {
  parcels: SellerParcelRecord[];
  nextCursor?: string;
}

export interface OrderPage {
  orders: OrderRecord[];
  nextCursor?: string;
}

interface OrderRow {
  order_id: string;
  buyer_id: string;
  status: OrderStatus;
  failure: CheckoutFailure | null;
  pricing: PriceBreakdown | null;
  currency: string | null;
  grand_total_minor: string | null;
  request_hash: string | null;
  created_at: Date;
  updated_at: Date;
}

interface ParcelRow {
  order_id: string;
  seller_id: string;
  status: ParcelStatus;
  customer_paid_minor: string;
  payout_minor: string;
  ship_by: Date;
  auto_release_at: Date | null;
  problem: ParcelProblem | null;
  escrow_workflow_id: string | null;
}

export const orderListLimitMax = 100;
const orderIdPattern = /^[A-Za-z0-9_-]{1,64}$/;

function toParcel(row: ParcelRow): ParcelRecord {
  return {
    sellerId: row.seller_id,
    status: row.status,
    customerPaid: toSafeInt(row.customer_paid_minor),
    payout: toSafeInt(row.payout_minor),
    shipBy: row.ship_by.toISOString(),
    ...(row.auto_release_at ? { autoReleaseAt: row.auto_release_at.toISOString() } : {}),
    ...(row.problem ? { problem: row.problem } : {}),
    ...(row.escrow_workflow_id ? { escrowWorkflowId: row.escrow_workflow_id } : {}),
  };
}

function toOrder(row: OrderRow, parcels: ParcelRecord[]): OrderRecord {
  return {
    orderId: row.order_id,
    userId: row.buyer_id,
    status: row.status,
    ...(row.failure ? { failure: row.failure } : {}),
    ...(row.pricing ? { pricing: row.pricing } : {}),
    ...(row.currency ? { currency: row.currency } : {}),
    ...(row.grand_total_minor !== null ? { grandTotal: toSafeInt(row.grand_total_minor) } : {}),
    parcels,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

/**
 * Opaque keyset cursor: the (created_at, order_id) of the last order of a page. created_at is
 * carried at Postgres' microsecond precision: a millisecond JS Date would skip or repeat orders
 * created within the same millisecond.
 */
function encodeCursor(createdAtExact: string, orderId: string): string {
  return Buffer.from(JSON.stringify([createdAtExact, orderId])).toString('base64url');
}

/** Whether `cursor` is a cursor this service hands out (the API validates it before any query). */
export function isListCursor(cursor: string): boolean {
  return parseCursor(cursor) !== undefined;
}

function parseCursor(cursor: string): [string, string] | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && typeof value[1] === 'string' && !Number.isNaN(Date.parse(value[0]))) {
      return [value[0], value[1]];
    }
  } catch {
    /* not one */
  }
  return undefined;
}

function decodeCursor(cursor: string): [string, string] {
  const decoded = parseCursor(cursor);
  if (decoded) return decoded;
  throw new ValidationError([{ path: 'cursor', message: 'is not a cursor returned by this API' }]);
}

function checkListLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit < 1 || limit > orderListLimitMax) {
    throw new ValidationError([{ path: 'limit', message: `must be an integer from 1 to ${orderListLimitMax}` }]);
  }
}

export function createOrdersService({ pool }: { pool: Pool }) {
  async function parcelsOf(orderIds: string[]): Promise<Map<string, ParcelRecord[]>> {
    const byOrder = new Map<string, ParcelRecord[]>(orderIds.map((id) => [id, []]));
    if (orderIds.length === 0) return byOrder;
    const { rows } = await pool.query<ParcelRow>(
      'SELECT * FROM order_parcels WHERE order_id = ANY($1) ORDER BY order_id, seller_id',
      [orderIds],
    );
    for (const row of rows) byOrder.get(row.order_id)?.push(toParcel(row));
    return byOrder;
  }

  async function findOrder(orderId: string): Promise<OrderRecord | undefined> {
    const { rows } = await pool.query<OrderRow>('SELECT * FROM orders WHERE order_id = $1', [orderId]);
    const row = rows[0];
    if (!row) return undefined;
    return toOrder(row, (await parcelsOf([orderId])).get(orderId) ?? []);
  }

  return {
    findOrder,

    async getOrder(orderId: string): Promise<OrderRecord> {
      const order = orderIdPattern.test(orderId) ? await findOrder(orderId) : undefined;
      if (!order) throw new NotFoundError('order', orderId);
      return order;
    },

    /**
     * Accepts a checkout request: inserts the order for (buyer, idempotency key) or finds the one
     * that key already made. The same key with a different request body is refused.
     */
    async acceptCheckoutRequest(input: {
      orderId: string;
      buyerId: string;
      idempotencyKey: string;
      requestHash: string;
      /** The saga's input, kept so that the saga can be started again from it (a retry, the reconciler). */
      checkoutInput?: unknown;
    }): Promise<{ order: OrderRecord; created: boolean }> {
      const inserted = await pool.query<OrderRow>(
        `INSERT INTO orders (order_id, buyer_id, idempotency_key, request_hash, checkout_input)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (buyer_id, idempotency_key) DO NOTHING
         RETURNING *`,
        [input.orderId, input.buyerId, input.idempotencyKey, input.requestHash, input.checkoutInput === undefined ? null : JSON.stringify(input.checkoutInput)],
      );
      if (inserted.rows[0]) return { order: toOrder(inserted.rows[0], []), created: true };
      const { rows } = await pool.query<OrderRow>('SELECT * FROM orders WHERE buyer_id = $1 AND idempotency_key = $2', [input.buyerId, input.idempotencyKey]);
      const existing = rows[0];
      if (!existing) throw new Error('order vanished between insert and select'); // rows are never deleted
      if (existing.request_hash !== input.requestHash) {
        throw new BusinessError('IDEMPOTENCY_KEY_REUSED', 'this Idempotency-Key was used with a different request body', { orderId: existing.order_id });
      }
      return { order: toOrder(existing, (await parcelsOf([existing.order_id])).get(existing.order_id) ?? []), created: false };
    },

    /**
     * Finds the order a buyer's idempotency key made, writing nothing: a repeated checkout request
     * answers from its order before the (by then usually empty) cart is read, and a refused request
     * (CART_EMPTY, PRICE_CHANGED) leaves no row.
     */
    /**
     * Orders accepted at least `olderThanMs` ago whose saga never recorded anything (no frozen
     * price yet), with the input to start it from: the reconciler starts each (a no-op for a saga
     * that exists already). Oldest first.
     */
    async ordersAwaitingSaga(olderThanMs: number, limit: number): Promise<{ orderId: string; checkoutInput: unknown }[]> {
      const { rows } = await pool.query<{ order_id: string; checkout_input: unknown }>(
        `SELECT order_id, checkout_input FROM orders
          WHERE status = 'PROCESSING' AND pricing IS NULL AND checkout_input IS NOT NULL
            AND created_at < now() - make_interval(secs => $1::double precision / 1000)
          ORDER BY created_at LIMIT $2`,
        [olderThanMs, limit],
      );
      return rows.map((row) => ({ orderId: row.order_id, checkoutInput: row.checkout_input }));
    },

    /** The saga input stored when the order's checkout request was accepted (undefined for older orders). */
    async checkoutInputOf(orderId: string): Promise<unknown> {
      const { rows } = await pool.query<{ checkout_input: unknown }>('SELECT checkout_input FROM orders WHERE order_id = $1', [orderId]);
      return rows[0]?.checkout_input ?? undefined;
    },

    async findCheckoutRequest(buyerId: string, idempotencyKey: string): Promise<{ order: OrderRecord; requestHash: string | null } | undefined> {
      const { rows } = await pool.query<OrderRow>('SELECT * FROM orders WHERE buyer_id = $1 AND idempotency_key = $2', [buyerId, idempotencyKey]);
      const row = rows[0];
      if (!row) return undefined;
      return { order: toOrder(row, (await parcelsOf([row.order_id])).get(row.order_id) ?? []), requestHash: row.request_hash };
    },

    /** The saga's "create order" step: the order exists with its frozen price (idempotent). */
    async recordOrder(input: { orderId: string; buyerId: string; pricing: PriceBreakdown }): Promise<void> {
      const { orderId, buyerId, pricing } = input;
      const { rows } = await pool.query<{ buyer_id: string }>(
        `INSERT INTO orders (order_id, buyer_id, pricing, currency, grand_total_minor)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (order_id) DO UPDATE
           SET pricing = COALESCE(orders.pricing, EXCLUDED.pricing),
               currency = COALESCE(orders.currency, EXCLUDED.currency),
               grand_total_minor = COALESCE(orders.grand_total_minor, EXCLUDED.grand_total_minor),
               updated_at = now()
         RETURNING buyer_id`,
        [orderId, buyerId, JSON.stringify(pricing), pricing.currency, pricing.totals.grandTotal],
      );
      if (rows[0]?.buyer_id !== buyerId) throw new Error(`order ${orderId} belongs to another buyer`);
    },

    /**
     * Moves the order to `status`. Idempotent, and a terminal status is never left: a late retry
     * of an earlier step cannot resurrect a finished order. Creates the row when the saga was
     * started without the API (tests, operators).
     */
    async setStatus(orderId: string, buyerId: string, status: OrderStatus, failure?: CheckoutFailure): Promise<OrderStatus> {
      // One statement: the update, or — when the saga runs without the API — the insert. (An
      // INSERT ... ON CONFLICT would check the new row's constraints before finding the conflict.)
      const { rows } = await pool.query<{ status: OrderStatus }>(
        `WITH updated AS (
           UPDATE orders SET status = $3, failure = $4, updated_at = now()
            WHERE order_id = $1 AND status NOT IN ('COMPLETED', 'FAILED')
           RETURNING status),
         inserted AS (
           INSERT INTO orders (order_id, buyer_id, status, failure)
           SELECT $1, $2, $3, $4 WHERE NOT EXISTS (SELECT 1 FROM orders WHERE order_id = $1)
           ON CONFLICT (order_id) DO NOTHING
           RETURNING status)
         SELECT status FROM updated UNION ALL SELECT status FROM inserted`,
        [orderId, buyerId, status, failure ? JSON.stringify(failure) : null],
      );
      if (rows[0]) return rows[0].status;
      const current = await pool.query<{ status: OrderStatus }>('SELECT status FROM orders WHERE order_id = $1', [orderId]);
      if (!current.rows[0]) throw new Error(`order ${orderId} was neither updated nor inserted; retry`);
      return current.rows[0].status;
    },

    /**
     * The saga's last write: the order's parcels in HELD and the order COMPLETED, in one statement
     * (so never one without the other). Idempotent; refuses an order that FAILED.
     */
    async completeOrder(
      orderId: string,
      parcels: { sellerId: string; customerPaid: number; payout: number; shipBy: string }[],
      escrowWorkflowId?: string,
    ): Promise<void> {
      const { rows } = await pool.query<{ status: OrderStatus }>(
        `WITH parcels AS (
           INSERT INTO order_parcels (order_id, seller_id, customer_paid_minor, payout_minor, ship_by, escrow_workflow_id)
           SELECT $1, p.seller_id, p.customer_paid, p.payout, p.ship_by, $3
             FROM jsonb_to_recordset($2::jsonb) AS p(seller_id text, customer_paid bigint, payout bigint, ship_by timestamptz)
            WHERE EXISTS (SELECT 1 FROM orders WHERE order_id = $1 AND status <> 'FAILED')
           ON CONFLICT (order_id, seller_id) DO NOTHING
           RETURNING 1)
         UPDATE orders SET status = 'COMPLETED', updated_at = now()
          WHERE order_id = $1 AND status NOT IN ('COMPLETED', 'FAILED')
         RETURNING status`,
        [orderId, JSON.stringify(parcels.map((p) => ({ seller_id: p.sellerId, customer_paid: p.customerPaid, payout: p.payout, ship_by: p.shipBy }))), escrowWorkflowId ?? null],
      );
      if (rows[0]) return;
      const current = await pool.query<{ status: OrderStatus }>('SELECT status FROM orders WHERE order_id = $1', [orderId]);
      if (current.rows[0]?.status !== 'COMPLETED') throw new Error(`order ${orderId} is ${current.rows[0]?.status ?? 'missing'}; it cannot complete`);
    },

    /** Creates the order's parcels in HELD (idempotent per order and seller). */
    async createParcels(orderId: string, parcels: { sellerId: string; customerPaid: number; payout: number; shipBy: string }[]): Promise<void> {
      if (parcels.length === 0) return;
      await pool.query(
        `INSERT INTO order_parcels (order_id, seller_id, customer_paid_minor, payout_minor, ship_by)
         SELECT $1, p.seller_id, p.customer_paid, p.payout, p.ship_by
           FROM jsonb_to_recordset($2::jsonb) AS p(seller_id text, customer_paid bigint, payout bigint, ship_by timestamptz)
         ON CONFLICT (order_id, seller_id) DO NOTHING`,
        [orderId, JSON.stringify(parcels.map((p) => ({ seller_id: p.sellerId, customer_paid: p.customerPaid, payout: p.payout, ship_by: p.shipBy })))],
      );
    },

    /**
     * Records a parcel's status as its escrow workflow moves it (idempotent). `problem`: a refused
     * money move to record (null clears it; undefined leaves it as it is).
     */
    async setParcelStatus(orderId: string, sellerId: string, status: ParcelStatus, autoReleaseAt?: string, problem?: ParcelProblem | null): Promise<void> {
      const { rowCount } = await pool.query(
        `UPDATE order_parcels SET status = $3, auto_release_at = COALESCE($4, auto_release_at),
                problem = CASE WHEN $5::boolean THEN $6::jsonb ELSE problem END, updated_at = now()
          WHERE order_id = $1 AND seller_id = $2`,
        [orderId, sellerId, status, autoReleaseAt ?? null, problem !== undefined, problem ? JSON.stringify(problem) : null],
      );
      if (rowCount === 0) throw new NotFoundError('parcel', `${orderId}/${sellerId}`);
    },

    /** The buyer's orders, newest first. */
    async listOrders(buyerId: string, options: { limit?: number; cursor?: string } = {}): Promise<OrderPage> {
      const limit = options.limit ?? 20;
      checkListLimit(limit);
      const after = options.cursor === undefined ? undefined : decodeCursor(options.cursor);
      const { rows } = await pool.query<OrderRow & { created_at_exact: string }>(
        `SELECT *, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS created_at_exact FROM orders
          WHERE buyer_id = $1 AND ($2::timestamptz IS NULL OR (created_at, order_id) < ($2::timestamptz, $3::text))
          ORDER BY created_at DESC, order_id DESC
          LIMIT $4`,
        [buyerId, after?.[0] ?? null, after?.[1] ?? null, limit + 1],
      );
      const page = rows.slice(0, limit);
      const parcels = await parcelsOf(page.map((r) => r.order_id));
      const orders = page.map((row) => toOrder(row, parcels.get(row.order_id) ?? []));
      const last = page[page.length - 1];
      return rows.length > limit && last ? { orders, nextCursor: encodeCursor(last.created_at_exact, last.order_id) } : { orders };
    },

    /**
     * A seller's parcels, newest first (by when the parcel was created, then order id), optionally
     * of one status, each with the seller's own lines of the order's frozen price. Keyset
     * pagination like listOrders; served by the indexes of db/migrations/0031_seller_parcels.sql.
     */
    async listSellerParcels(sellerId: string, options: { status?: ParcelStatus; limit?: number; cursor?: string } = {}): Promise<SellerParcelPage> {
      const limit = options.limit ?? 20;
      checkListLimit(limit);
      const after = options.cursor === undefined ? undefined : decodeCursor(options.cursor);
      // The status filter is spelled out only when given, so a generic plan still uses the
      // (seller_id, status, created_at, order_id) index.
      const params: unknown[] = [sellerId, after?.[0] ?? null, after?.[1] ?? null, limit + 1];
      if (options.status !== undefined) params.push(options.status);
      const { rows } = await pool.query<ParcelRow & { lines: LineBreakdown[]; currency: string | null; created_at: Date; created_at_exact: string }>(
        `SELECT p.*, o.currency,
                COALESCE(jsonb_path_query_array(o.pricing, '$.lines[*] ? (@.sellerId == $s)', jsonb_build_object('s', p.seller_id)), '[]'::jsonb) AS lines,
                to_char(p.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS created_at_exact
           FROM order_parcels p JOIN orders o ON o.order_id = p.order_id
          WHERE p.seller_id = $1
            ${options.status === undefined ? '' : 'AND p.status = $5'}
            AND ($2::timestamptz IS NULL OR (p.created_at, p.order_id) < ($2::timestamptz, $3::text))
          ORDER BY p.created_at DESC, p.order_id DESC
          LIMIT $4`,
        params,
      );
      const page = rows.slice(0, limit);
      const parcels = page.map((row) => ({ orderId: row.order_id, ...toParcel(row), lines: row.lines, currency: row.currency, createdAt: row.created_at.toISOString() }));
      const last = page[page.length - 1];
      return rows.length > limit && last ? { parcels, nextCursor: encodeCursor(last.created_at_exact, last.order_id) } : { parcels };
    },
  };
}

export type OrdersService = ReturnType<typeof createOrdersService>;
