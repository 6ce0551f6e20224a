/**
 * The invariants the auditor checks, each a named SQL query that returns one row per violation
 * (and no rows when the invariant holds). To add an invariant (stock, vouchers, order states...),
 * add a check to a list here, or a new file whose list is appended to `allChecks`; the runner and
 * the CLI need no change. Queries are read-only and run in one snapshot.
 *
 * Sign convention of the ledger: debit positive, credit negative (docs/payments-and-ledger.md).
 */

export interface AuditCheck {
  /** Stable snake_case name, used in the report and with --check. */
  readonly name: string;
  /** The invariant, in one sentence. */
  readonly description: string;
  /** Returns one row per violation, with columns that identify it. */
  readonly sql: string;
}

export const ledgerChecks: readonly AuditCheck[] = [
  {
    name: 'ledger_entries_balance',
    description: "Every journal entry's postings sum to zero.",
    sql: `SELECT e.entry_id::text AS entry_id, e.business_key, coalesce(sum(p.amount_minor), 0)::text AS sum_minor
          FROM ledger_entries e LEFT JOIN ledger_postings p ON p.entry_id = e.entry_id
          GROUP BY e.entry_id, e.business_key
          HAVING coalesce(sum(p.amount_minor), 0) <> 0`,
  },
  {
    name: 'ledger_balances_sum_to_zero',
    description: 'All account balances together sum to zero, per currency.',
    sql: `SELECT currency, sum(amount_minor)::text AS sum_minor
          FROM ledger_postings GROUP BY currency HAVING sum(amount_minor) <> 0`,
  },
  {
    name: 'escrow_zero_once_settled',
    description: "An order's escrow account is exactly zero once every parcel is released or refunded.",
    sql: `WITH parcels AS (
            SELECT p.order_id, count(*) AS parcels, count(s.entry_id) AS settled
            FROM ledger_parcels p
            LEFT JOIN ledger_entries s ON s.order_id = p.order_id AND s.seller_id = p.seller_id AND s.kind IN ('release', 'refund')
            GROUP BY p.order_id),
          escrow AS (
            SELECT account_ref AS order_id, sum(amount_minor) AS balance
            FROM ledger_postings WHERE account_kind = 'order_escrow' GROUP BY account_ref)
          SELECT p.order_id, p.parcels, coalesce(e.balance, 0)::text AS escrow_balance_minor
          FROM parcels p LEFT JOIN escrow e ON e.order_id = p.order_id
          WHERE p.settled = p.parcels AND coalesce(e.balance, 0) <> 0`,
  },
  {
    name: 'parcel_escrow_matches_state',
    description: "Each parcel's share of its order's escrow is minus its escrowed amount while held, and zero once settled.",
    sql: `SELECT p.order_id, p.seller_id,
                 CASE WHEN s.entry_id IS NULL THEN 'held' ELSE s.kind END AS state,
                 (CASE WHEN s.entry_id IS NULL THEN -(p.customer_paid_minor + p.platform_subsidy_minor) ELSE 0 END)::text AS expected_minor,
                 coalesce(b.balance, 0)::text AS actual_minor
          FROM ledger_parcels p
          LEFT JOIN ledger_entries s ON s.order_id = p.order_id AND s.seller_id = p.seller_id AND s.kind IN ('release', 'refund')
          LEFT JOIN (SELECT account_ref, seller_id, sum(amount_minor) AS balance FROM ledger_postings
                     WHERE account_kind = 'order_escrow' GROUP BY account_ref, seller_id) b
                 ON b.account_ref = p.order_id AND b.seller_id = p.seller_id
          WHERE coalesce(b.balance, 0) <> CASE WHEN s.entry_id IS NULL THEN -(p.customer_paid_minor + p.platform_subsidy_minor) ELSE 0 END`,
  },
  {
    name: 'escrow_never_overdrawn',
    description: 'No order escrow account pays out more than it received (its balance is never a debit).',
    sql: `SELECT account_ref AS order_id, sum(amount_minor)::text AS balance_minor
          FROM ledger_postings WHERE account_kind = 'order_escrow'
          GROUP BY account_ref HAVING sum(amount_minor) > 0`,
  },
  {
    name: 'payables_never_overpaid',
    description: 'Seller payables, buyer refunds payable and tax payable are never paid beyond what is owed.',
    sql: `SELECT account_kind, account_ref, currency, sum(amount_minor)::text AS balance_minor
          FROM ledger_postings WHERE account_kind IN ('seller_payable', 'buyer_refunds_payable', 'tax_payable')
          GROUP BY account_kind, account_ref, currency HAVING sum(amount_minor) > 0`,
  },
  {
    name: 'parcel_settled_once',
    description: 'A parcel is released or refunded, never both and never twice.',
    sql: `SELECT order_id, seller_id, count(*) AS settlements
          FROM ledger_entries WHERE kind IN ('release', 'refund')
          GROUP BY order_id, seller_id HAVING count(*) > 1`,
  },
  {
    name: 'ledger_refunds_within_charge',
    description: "The refunds the ledger owes a buyer never exceed what the order's escrow took from the PSP.",
    sql: `SELECT order_id, coalesce(charged, 0)::text AS charged_minor, coalesce(refunded, 0)::text AS refunded_minor
          FROM (SELECT e.order_id,
                       sum(p.amount_minor) FILTER (WHERE e.kind = 'escrow' AND p.account_kind = 'psp_clearing') AS charged,
                       -sum(p.amount_minor) FILTER (WHERE e.kind = 'refund' AND p.account_kind = 'buyer_refunds_payable') AS refunded
                FROM ledger_entries e JOIN ledger_postings p ON p.entry_id = e.entry_id
                WHERE e.order_id IS NOT NULL
                GROUP BY e.order_id) t
          WHERE coalesce(refunded, 0) > coalesce(charged, 0)`,
  },
];

export const paymentChecks: readonly AuditCheck[] = [
  {
    name: 'refunds_within_charge',
    description: 'The refunds of an order never exceed its charge.',
    sql: `SELECT p.order_id, p.amount_minor::text AS charged_minor, coalesce(sum(r.amount_minor), 0)::text AS refunds_minor
          FROM payments p LEFT JOIN payment_refunds r ON r.order_id = p.order_id AND r.status <> 'failed'
          GROUP BY p.order_id, p.amount_minor
          HAVING coalesce(sum(r.amount_minor), 0) > p.amount_minor`,
  },
  {
    name: 'refund_total_consistent',
    description: "A payment's refunded total equals the sum of its refunds.",
    sql: `SELECT p.order_id, p.refunded_minor::text AS refunded_minor, coalesce(sum(r.amount_minor), 0)::text AS refunds_minor
          FROM payments p LEFT JOIN payment_refunds r ON r.order_id = p.order_id AND r.status <> 'failed'
          GROUP BY p.order_id, p.refunded_minor
          HAVING coalesce(sum(r.amount_minor), 0) <> p.refunded_minor`,
  },
  {
    name: 'one_successful_charge_per_order',
    description: 'At most one PSP payment per order ever succeeded (by our records and by the PSP webhooks).',
    sql: `SELECT order_id, count(DISTINCT payment_id) AS payments, string_agg(DISTINCT payment_id, ',') AS payment_ids
          FROM (SELECT order_id, payment_id FROM payment_webhook_events WHERE type = 'payment.succeeded'
                UNION ALL
                SELECT order_id, payment_id FROM payments WHERE status = 'succeeded' AND payment_id IS NOT NULL) s
          GROUP BY order_id HAVING count(DISTINCT payment_id) > 1`,
  },
  {
    name: 'escrow_matches_charge',
    description: "An order's escrow takes from the PSP exactly the amount charged (when both exist).",
    sql: `SELECT pay.order_id, pay.amount_minor::text AS charged_minor, esc.escrowed::text AS escrowed_minor
          FROM payments pay
          JOIN (SELECT e.order_id, sum(p.amount_minor) AS escrowed
                FROM ledger_entries e JOIN ledger_postings p ON p.entry_id = e.entry_id
                WHERE e.kind = 'escrow' AND p.account_kind = 'psp_clearing' GROUP BY e.order_id) esc ON esc.order_id = pay.order_id
          WHERE pay.status = 'succeeded' AND esc.escrowed <> pay.amount_minor`,
  },
  {
    name: 'transfers_plus_retained_equal_charge',
    description:
      "A Stripe order's seller transfers, plus what the platform retains (commission and tax less its subsidy on released parcels, escrow still held), plus its parcel refunds, equal its charge, once no payout is owed.",
    // Transfers come from the PSP's records (payment_payouts), everything else from the ledger's
    // parcels: a transfer of the wrong amount, twice, or for a parcel never released breaks the sum.
    sql: `WITH parcels AS (
            SELECT p.order_id, p.seller_id, p.customer_paid_minor, p.platform_subsidy_minor, p.payout_minor, p.commission_minor, p.tax_minor,
                   (SELECT s.kind FROM ledger_entries s
                     WHERE s.order_id = p.order_id AND s.seller_id = p.seller_id AND s.kind IN ('release', 'refund') LIMIT 1) AS settled
            FROM ledger_parcels p),
          orders AS (
            SELECT order_id,
                   sum(CASE WHEN settled = 'release' THEN commission_minor + tax_minor - platform_subsidy_minor
                            WHEN settled IS NULL THEN customer_paid_minor ELSE 0 END) AS retained,
                   sum(CASE WHEN settled = 'refund' THEN customer_paid_minor ELSE 0 END) AS refunded,
                   bool_and(settled IS DISTINCT FROM 'release' OR payout_minor = 0 OR EXISTS (
                     SELECT 1 FROM payment_payouts t WHERE t.order_id = parcels.order_id AND t.seller_id = parcels.seller_id AND t.status = 'succeeded')) AS nothing_owed
            FROM parcels GROUP BY order_id),
          transfers AS (
            SELECT order_id, sum(amount_minor) AS transferred FROM payment_payouts WHERE status = 'succeeded' GROUP BY order_id)
          SELECT pay.order_id, pay.amount_minor::text AS charged_minor, coalesce(t.transferred, 0)::text AS transferred_minor,
                 o.retained::text AS retained_minor, o.refunded::text AS refunded_minor
          FROM payments pay
          JOIN orders o ON o.order_id = pay.order_id
          LEFT JOIN transfers t ON t.order_id = pay.order_id
          WHERE pay.gateway = 'stripe' AND pay.status = 'succeeded' AND o.nothing_owed
            AND coalesce(t.transferred, 0) + o.retained + o.refunded <> pay.amount_minor`,
  },
];

/**
 * Order states against the stores (the checkout saga's outcome). A saga still compensating is not
 * finished: these hold for orders whose workflow has ended, which is every order of a quiet system.
 */
export const orderChecks: readonly AuditCheck[] = [
  {
    name: 'completed_order_escrowed_and_sold',
    description: 'A COMPLETED order has its escrow in the ledger and no stock still merely reserved.',
    sql: `SELECT o.order_id,
                 EXISTS (SELECT 1 FROM ledger_entries e WHERE e.kind = 'escrow' AND e.order_id = o.order_id) AS escrowed,
                 (SELECT count(*) FROM inventory_reservations r WHERE r.order_id = o.order_id AND r.status = 'reserved') AS reserved_lines
          FROM orders o
          WHERE o.status = 'COMPLETED'
            AND (NOT EXISTS (SELECT 1 FROM ledger_entries e WHERE e.kind = 'escrow' AND e.order_id = o.order_id)
                 OR EXISTS (SELECT 1 FROM inventory_reservations r WHERE r.order_id = o.order_id AND r.status = 'reserved'))`,
  },
  {
    name: 'failed_order_fully_undone',
    description: 'A FAILED order holds no stock, and whatever was charged for it was refunded in full.',
    sql: `SELECT o.order_id, pay.status AS payment_status, pay.amount_minor::text AS charged_minor, pay.refunded_minor::text AS refunded_minor,
                 (SELECT count(*) FROM inventory_reservations r WHERE r.order_id = o.order_id AND r.status IN ('reserved', 'committed')) AS stock_lines_held
          FROM orders o LEFT JOIN payments pay ON pay.order_id = o.order_id
          WHERE o.status = 'FAILED'
            AND ((pay.status = 'succeeded' AND pay.refunded_minor <> pay.amount_minor)
                 OR EXISTS (SELECT 1 FROM inventory_reservations r WHERE r.order_id = o.order_id AND r.status IN ('reserved', 'committed')))`,
  },
];

/** Every check the auditor runs, in report order. */
export const allChecks: readonly AuditCheck[] = [...ledgerChecks, ...paymentChecks, ...orderChecks];
