/**
 * SQL of the payments service. Every write is a single conditional statement keyed by business ids
 * (order, seller, event id); status changes only move forward:
 *
 *   pending -> processing -> succeeded | failed | canceled     pending -> succeeded | declined | failed | canceled
 *
 * so a late or duplicated answer (a webhook after the synchronous reply, or the reverse) can never
 * move a payment backwards.
 */
import type { Pool, PoolClient } from 'pg';
import { inTransaction, toSafeInt } from '../../db/pool';
import type { GatewayCharge, PaymentEvent, PaymentRecord, PaymentStatus, PayoutRecord, PayoutStatus } from './types';

type Queryable = Pool | PoolClient;

interface PaymentRow {
  order_id: string;
  gateway: PaymentRecord['gateway'];
  idempotency_key: string;
  payment_id: string | null;
  status: PaymentStatus;
  amount_minor: string;
  currency: string;
  refunded_minor: string;
  decline_code: string | null;
  created_at: Date;
  updated_at: Date;
}

function toRecord(row: PaymentRow): PaymentRecord {
  return {
    orderId: row.order_id,
    gateway: row.gateway,
    idempotencyKey: row.idempotency_key,
    paymentId: row.payment_id,
    status: row.status,
    amountMinor: toSafeInt(row.amount_minor),
    currency: row.currency,
    refundedMinor: toSafeInt(row.refunded_minor),
    declineCode: row.decline_code,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

const paymentColumns = `order_id, gateway, idempotency_key, payment_id, status, amount_minor::text, currency,
                        refunded_minor::text, decline_code, created_at, updated_at`;

export async function findPayment(db: Queryable, orderId: string): Promise<PaymentRecord | undefined> {
  const { rows } = await db.query<PaymentRow>(`SELECT ${paymentColumns} FROM payments WHERE order_id = $1`, [orderId]);
  return rows[0] ? toRecord(rows[0]) : undefined;
}

/** Records the intent to charge (status pending) once per order; returns the order's payment either way. */
export async function ensurePayment(
  pool: Pool,
  p: { orderId: string; gateway: PaymentRecord['gateway']; idempotencyKey: string; amountMinor: number; currency: string },
): Promise<PaymentRecord> {
  const { rows } = await pool.query<PaymentRow>(
    `INSERT INTO payments (order_id, gateway, idempotency_key, amount_minor, currency, status)
     VALUES ($1, $2, $3, $4, $5, 'pending')
     ON CONFLICT (order_id) DO NOTHING
     RETURNING ${paymentColumns}`,
    [p.orderId, p.gateway, p.idempotencyKey, p.amountMinor, p.currency],
  );
  if (rows[0]) return toRecord(rows[0]);
  const existing = await findPayment(pool, p.orderId);
  if (!existing) throw new Error(`payment of order ${p.orderId} was neither inserted nor found`);
  return existing;
}

/** The statuses a payment may move to from each status. */
const forwardFrom: Record<PaymentStatus, readonly PaymentStatus[]> = {
  pending: ['processing', 'succeeded', 'declined', 'failed', 'canceled'],
  processing: ['succeeded', 'failed', 'canceled'],
  succeeded: [],
  declined: [],
  failed: [],
  // Cancelled at the PSP before it succeeded: final. A late `payment.failed` for it changes nothing.
  canceled: [],
};

/** The statuses from which `to` is a forward move. */
function movableTo(to: PaymentStatus): PaymentStatus[] {
  return (Object.keys(forwardFrom) as PaymentStatus[]).filter((from) => forwardFrom[from].includes(to));
}

/**
 * Moves a payment forward to what the PSP reported. The PSP id is recorded on first sight and must
 * never change: one order, one PSP payment.
 */
export async function recordCharge(db: Queryable, orderId: string, charge: GatewayCharge): Promise<PaymentRecord | undefined> {
  const { rows } = await db.query<PaymentRow>(
    `UPDATE payments
        SET status = $2, payment_id = coalesce(payment_id, nullif($3, '')), decline_code = coalesce($4, decline_code), updated_at = now(),
            outcome_from_charge = outcome_from_charge OR (status = 'pending' AND $2 <> 'processing')
      WHERE order_id = $1 AND status = ANY($5::text[]) AND (payment_id IS NULL OR payment_id = $3 OR $3 = '')
      RETURNING ${paymentColumns}`,
    [orderId, charge.status, charge.paymentId, charge.declineCode, movableTo(charge.status)],
  );
  return rows[0] ? toRecord(rows[0]) : undefined;
}

/** Stores a verified event unless its id was seen before; true when it is new. */
export async function insertEvent(db: Queryable, event: PaymentEvent): Promise<boolean> {
  const { rowCount } = await db.query(
    `INSERT INTO payment_webhook_events (event_id, type, order_id, payment_id, amount_minor, currency, event_created_at, payload)
     VALUES ($1, $2, $3, $4, $5, $6, to_timestamp($7), $8)
     ON CONFLICT (event_id) DO NOTHING`,
    [event.id, event.type, event.data.orderId, event.data.paymentId, event.data.amount, event.data.currency, event.created, JSON.stringify(event)],
  );
  return rowCount === 1;
}

/** The effect of a new event on the payment or refund records; true when something changed. */
export async function applyEvent(db: Queryable, event: PaymentEvent): Promise<boolean> {
  const { orderId, paymentId, amount } = event.data;
  if (event.type === 'refund.succeeded' && event.data.cumulative) {
    // The PSP's refunded total for the payment: when it covers every refund we asked for (pending
    // or done), all of them are done. A smaller total names none in particular: nothing changes.
    const { rowCount } = await db.query(
      `UPDATE payment_refunds r SET status = 'succeeded', updated_at = now()
         FROM payments p
        WHERE r.order_id = $1 AND p.order_id = r.order_id AND p.payment_id = $2 AND r.status = 'pending' AND p.refunded_minor <= $3`,
      [orderId, paymentId, amount],
    );
    return (rowCount ?? 0) > 0;
  }
  if (event.type === 'refund.succeeded') {
    const { rowCount } = await db.query(
      `UPDATE payment_refunds r
          SET status = 'succeeded', refund_id = coalesce(r.refund_id, $3), updated_at = now()
         FROM payments p
        WHERE r.order_id = $1 AND p.order_id = r.order_id AND p.payment_id = $2 AND r.status = 'pending'
          AND (r.refund_id = $3 OR (r.refund_id IS NULL AND r.seller_id = $4 AND r.amount_minor = $5))`,
      [orderId, paymentId, event.data.refundId ?? null, event.data.sellerId ?? null, amount],
    );
    return rowCount === 1;
  }
  const to: PaymentStatus = event.type === 'payment.succeeded' ? 'succeeded' : 'failed';
  const { rowCount } = await db.query(
    `UPDATE payments
        SET status = $2, payment_id = coalesce(payment_id, $3), updated_at = now()
      WHERE order_id = $1 AND status = ANY($5::text[]) AND (payment_id IS NULL OR payment_id = $3) AND amount_minor = $4
        AND NOT EXISTS (SELECT 1 FROM payments other WHERE other.payment_id = $3 AND other.order_id <> $1)`,
    [orderId, to, paymentId, amount, movableTo(to)],
  );
  return rowCount === 1;
}

/**
 * Whether the order has a payment, and whether its outcome came back from the charge call itself
 * (see migration 0041): then the saga knows it already and a payment webhook has nothing to tell it.
 */
export async function paymentFlagsOf(db: Queryable, orderId: string): Promise<{ known: boolean; outcomeFromCharge: boolean }> {
  const { rows } = await db.query<{ outcome_from_charge: boolean }>('SELECT outcome_from_charge FROM payments WHERE order_id = $1', [orderId]);
  return { known: rows.length === 1, outcomeFromCharge: rows[0]?.outcome_from_charge ?? false };
}

// ------------------------------------------------------------------ refunds

export interface RefundRow {
  order_id: string;
  seller_id: string;
  idempotency_key: string;
  amount_minor: string;
  refund_id: string | null;
  status: 'pending' | 'succeeded' | 'failed';
}

export async function findRefund(db: Queryable, orderId: string, sellerId: string): Promise<RefundRow | undefined> {
  const { rows } = await db.query<RefundRow>(
    `SELECT order_id, seller_id, idempotency_key, amount_minor::text, refund_id, status FROM payment_refunds WHERE order_id = $1 AND seller_id = $2`,
    [orderId, sellerId],
  );
  return rows[0];
}

/**
 * Reserves a parcel's refund: inserts it and raises the payment's refunded total in one transaction.
 * The raise is conditional (and the table's CHECK backs it), so concurrent refunds of different
 * parcels can never add up to more than the charge. Returns 'reserved', 'exists' (a repeat), or why not.
 */
export async function reserveRefund(
  client: PoolClient,
  r: { orderId: string; sellerId: string; idempotencyKey: string; amountMinor: number },
): Promise<'reserved' | 'exists' | 'exceeds'> {
  const inserted = await client.query(
    `INSERT INTO payment_refunds (order_id, seller_id, idempotency_key, amount_minor, status)
     VALUES ($1, $2, $3, $4, 'pending')
     ON CONFLICT (order_id, seller_id) DO NOTHING`,
    [r.orderId, r.sellerId, r.idempotencyKey, r.amountMinor],
  );
  if (inserted.rowCount !== 1) return 'exists';
  const raised = await client.query(
    `UPDATE payments SET refunded_minor = refunded_minor + $2, updated_at = now()
      WHERE order_id = $1 AND status = 'succeeded' AND refunded_minor + $2 <= amount_minor`,
    [r.orderId, r.amountMinor],
  );
  return raised.rowCount === 1 ? 'reserved' : 'exceeds';
}

/**
 * Records the PSP's answer to a parcel's refund (a pending refund only moves on). A refund the PSP
 * reports `failed` gives its reservation back in the same transaction: `refunded_minor` counts
 * the refunds that are pending or done, never failed ones (the auditor's refund_total_consistent).
 */
export async function recordRefund(pool: Pool, orderId: string, sellerId: string, refundId: string, status: 'succeeded' | 'pending' | 'failed'): Promise<RefundRow | undefined> {
  return inTransaction(pool, async (client) => {
    const { rows: before } = await client.query<{ status: RefundRow['status'] }>(
      'SELECT status FROM payment_refunds WHERE order_id = $1 AND seller_id = $2 FOR UPDATE',
      [orderId, sellerId],
    );
    const { rows } = await client.query<RefundRow>(
      `UPDATE payment_refunds SET refund_id = coalesce(refund_id, $3),
              status = CASE WHEN status = 'pending' THEN $4 ELSE status END, updated_at = now()
        WHERE order_id = $1 AND seller_id = $2
        RETURNING order_id, seller_id, idempotency_key, amount_minor::text, refund_id, status`,
      [orderId, sellerId, refundId, status],
    );
    const row = rows[0];
    if (row && before[0]?.status === 'pending' && row.status === 'failed') {
      await client.query('UPDATE payments SET refunded_minor = refunded_minor - $2, updated_at = now() WHERE order_id = $1', [orderId, row.amount_minor]);
    }
    return row;
  });
}

// ------------------------------------------------------------------ payouts

export interface PayoutRow {
  order_id: string;
  seller_id: string;
  idempotency_key: string;
  amount_minor: string;
  currency: string;
  destination: string | null;
  transfer_id: string | null;
  status: PayoutStatus;
  last_error: string | null;
}

const payoutColumns = 'order_id, seller_id, idempotency_key, amount_minor::text, currency, destination, transfer_id, status, last_error';

export function toPayoutRecord(row: PayoutRow): PayoutRecord {
  return {
    orderId: row.order_id,
    sellerId: row.seller_id,
    amountMinor: toSafeInt(row.amount_minor),
    currency: row.currency,
    status: row.status,
    destination: row.destination,
    transferId: row.transfer_id,
    lastError: row.last_error,
  };
}

/** The seller's connected account (sellers.stripe_account_id, set by the catalog), or null. */
export async function sellerAccountOf(db: Queryable, sellerId: string): Promise<string | null> {
  const { rows } = await db.query<{ stripe_account_id: string | null }>('SELECT stripe_account_id FROM sellers WHERE seller_id = $1', [sellerId]);
  return rows[0]?.stripe_account_id ?? null;
}

export async function findPayout(db: Queryable, orderId: string, sellerId: string): Promise<PayoutRow | undefined> {
  const { rows } = await db.query<PayoutRow>(`SELECT ${payoutColumns} FROM payment_payouts WHERE order_id = $1 AND seller_id = $2`, [orderId, sellerId]);
  return rows[0];
}

/**
 * Records the intent to pay a parcel out, once, and only for an order whose charge succeeded:
 * `pending` with its destination, or `awaiting_account` when the seller has none (destination
 * null). A payout that was awaiting an account takes the destination once one is known.
 */
export async function ensurePayout(
  pool: Pool,
  p: { orderId: string; sellerId: string; idempotencyKey: string; amountMinor: number; destination: string | null },
): Promise<PayoutRow | undefined> {
  await pool.query(
    `INSERT INTO payment_payouts (order_id, seller_id, idempotency_key, amount_minor, currency, destination, status)
     SELECT $1, $2, $3, $4, currency, $5, CASE WHEN $5::text IS NULL THEN 'awaiting_account' ELSE 'pending' END
       FROM payments WHERE order_id = $1 AND status = 'succeeded'
     ON CONFLICT (order_id, seller_id) DO UPDATE SET destination = excluded.destination, status = 'pending', updated_at = now()
       WHERE payment_payouts.status = 'awaiting_account' AND excluded.destination IS NOT NULL`,
    [p.orderId, p.sellerId, p.idempotencyKey, p.amountMinor, p.destination],
  );
  return findPayout(pool, p.orderId, p.sellerId);
}

export async function recordPayout(db: Queryable, orderId: string, sellerId: string, transferId: string): Promise<void> {
  await db.query(
    `UPDATE payment_payouts SET transfer_id = coalesce(transfer_id, $3), status = 'succeeded', last_error = NULL, updated_at = now()
      WHERE order_id = $1 AND seller_id = $2`,
    [orderId, sellerId, transferId],
  );
}

/** Keeps a payout owed (pending) with why its transfer did not happen, for the operator and the next attempt. */
export async function recordPayoutFailure(db: Queryable, orderId: string, sellerId: string, reason: string): Promise<void> {
  await db.query(`UPDATE payment_payouts SET last_error = $3, updated_at = now() WHERE order_id = $1 AND seller_id = $2 AND status <> 'succeeded'`, [
    orderId,
    sellerId,
    reason.slice(0, 1000),
  ]);
}

/**
 * Points a seller's owed payouts at its (new) connected account: those awaiting one, and pending
 * ones whose transfer failed without a transfer id (e.g. to an account Stripe refused). Returns
 * every payout of the seller still owed, oldest first.
 */
export async function retargetUnpaidPayouts(db: Queryable, sellerId: string, destination: string): Promise<PayoutRow[]> {
  await db.query(
    `UPDATE payment_payouts SET destination = $2, status = 'pending', updated_at = now()
      WHERE seller_id = $1 AND transfer_id IS NULL
        AND (status = 'awaiting_account' OR (status = 'pending' AND last_error IS NOT NULL AND destination IS DISTINCT FROM $2))`,
    [sellerId, destination],
  );
  return unpaidPayoutsOf(db, sellerId);
}

/** The seller's payouts not transferred yet (awaiting an account, or pending), oldest first. */
export async function unpaidPayoutsOf(db: Queryable, sellerId: string): Promise<PayoutRow[]> {
  const { rows } = await db.query<PayoutRow>(
    `SELECT ${payoutColumns} FROM payment_payouts WHERE seller_id = $1 AND status <> 'succeeded' ORDER BY created_at, order_id`,
    [sellerId],
  );
  return rows;
}

/** The order whose PSP payment this is (Stripe's charge events name the PaymentIntent, not our order). */
export async function orderOfPayment(db: Queryable, paymentId: string): Promise<string | undefined> {
  const { rows } = await db.query<{ order_id: string }>('SELECT order_id FROM payments WHERE payment_id = $1', [paymentId]);
  return rows[0]?.order_id;
}
