/**
 * Added by the API engineer (issue #7), kept apart from service.ts on purpose: the lookup of a
 * checkout request by its buyer's idempotency key, WITHOUT inserting anything. POST /v1/checkouts
 * needs it so that a repeated key answers from its order before the cart is validated (the cart is
 * usually empty after a completed checkout), and so that a refused request (CART_EMPTY,
 * PRICE_CHANGED) writes no order row. A candidate to fold into createOrdersService.
 */
import type { Pool } from 'pg';
import { createOrdersService, type OrderRecord } from './service';

export interface CheckoutRequestRecord {
  order: OrderRecord;
  /** The hash of the request body that made the order (null for an order made without the API). */
  requestHash: string | null;
}

export async function findCheckoutRequest(pool: Pool, buyerId: string, idempotencyKey: string): Promise<CheckoutRequestRecord | undefined> {
  const { rows } = await pool.query<{ order_id: string; request_hash: string | null }>(
    'SELECT order_id, request_hash FROM orders WHERE buyer_id = $1 AND idempotency_key = $2',
    [buyerId, idempotencyKey],
  );
  const row = rows[0];
  if (!row) return undefined;
  const order = await createOrdersService({ pool }).findOrder(row.order_id);
  if (!order) return undefined; // rows are never deleted; only a concurrent test cleanup could do this
  return { order, requestHash: row.request_hash };
}
