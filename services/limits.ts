/**
 * The limits of the catalog, cart, inventory and voucher services, in one place. Every list, every
 * quantity and every wait has a bound; units are named last (`cartTtlMs`, `lineQuantityMax`).
 * Changing a limit here changes it for every service and for the validation messages.
 */
import { idLimits } from '../lib/vocabulary';
export const limits = {
  /** Distinct SKUs (lines) in one cart. */
  cartLinesMax: 100,
  /** Distinct sellers in one cart. */
  cartSellersMax: 20,
  /** Voucher codes applied to one cart (the pricing engine accepts at most one per slot anyway). */
  cartVouchersMax: 5,
  /** Units of one SKU on one cart line or in one reservation line. */
  lineQuantityMin: 1,
  lineQuantityMax: 999,
  /** A cart lives this long after its last change. */
  cartTtlMs: 24 * 60 * 60 * 1000,

  /** Lines in one reserve call (one seller's part of an order; never more than a cart holds). */
  reserveLinesMax: 100,
  /** Buckets a hot SKU's stock can be split into (the schema's CHECK says the same). */
  bucketCountMax: 64,
  /**
   * Reserve calls sent in one round trip (each still its own transaction), and such round trips in
   * flight at once. A few connections per Postgres core keep it busy; more only lengthen the queue
   * on a hot row's lock.
   */
  reserveBatchMax: 64,
  reserveBatchesInFlightMax: 8,
  /** Retries of a reservation whose bucketed SKU was momentarily locked by others (nothing was written). */
  reserveBusyRetriesMax: 50,
  /** Upper bound of the random pause before such a retry. */
  reserveBusyBackoffMsMax: 20,
  /** On-hand units of one SKU (far below 2^53, so sums over buckets stay exact). */
  stockUnitsMax: 1_000_000_000_000,

  /** Lengths of catalog ids (sku, seller, promotion, campaign) and of order and user ids: one limit for every layer. */
  ...idLimits,
  nameLengthMax: 200,
  categoryLengthMax: 64,
  /** SKUs listed in one seller promotion. */
  promotionSkusMax: 1000,
  /** Entries of a per-category rate map of the pricing configuration. */
  rateMapEntriesMax: 1000,

  voucherCodeLengthMax: 64,
  /** A per-user limit is small by nature; the Redis script walks the user's slots. */
  voucherPerUserLimitMax: 100,
  voucherTotalLimitMax: 1_000_000_000,
  /**
   * How long an unconsumed, unreleased voucher hold keeps its slot (a crashed saga's hold). It must
   * outlive the saga's payment wait: processes derive it from PAYMENT_TIMEOUT_MS + the margin below
   * (VOUCHER_HOLD_MS overrides; services/vouchers/hold-config.ts). This default is that sum for the
   * default payment wait of 15 minutes.
   */
  holdTimeoutMsDefault: 30 * 60 * 1000,
  /** What a hold lasts beyond the payment wait by default (the charge, escrow and consume steps). */
  voucherHoldMarginMs: 15 * 60 * 1000,
  holdTimeoutMsMin: 1,
  holdTimeoutMsMax: 24 * 60 * 60 * 1000,
  /** Attempts of one hold when Redis and Postgres disagree (each attempt resynchronises Redis). */
  voucherHoldAttemptsMax: 8,
  /** Expired holds one hold script call reclaims in Redis before it allocates (bounded work). */
  voucherReclaimPerCallMax: 16,
  /** Lifetime of a voucher's Redis state; it is rebuilt from Postgres after that (a backstop). */
  voucherCacheTtlMs: 10 * 60 * 1000,
  /** How long Redis remembers that a code does not exist. */
  voucherMissingCacheTtlMs: 5 * 1000,
  /** A rebuild of a voucher's Redis state first waits this long at most for this process's holds in flight. */
  voucherLoadDrainMsMax: 2 * 1000,
  /**
   * Holds written to Postgres in one statement, and such statements in flight at once. Two let one
   * statement fill while the other commits; with four the statements were smaller and holds at 8
   * callers no faster (bench:vouchers, durable commit).
   */
  voucherHoldBatchMax: 256,
  voucherHoldBatchesInFlightMax: 2,
  /** Expired holds one sweep call ends. */
  voucherExpirySweepMax: 1000,

  /**
   * The sold-out gate (services/inventory/stock-gate.ts): an entry older than this counts as
   * unknown (a backstop against a change that bypassed the services; every reserve, release,
   * commit, restock and stock change refreshes its skus).
   */
  stockGateAgeMsMax: 10 * 60 * 1000,
  /** Skus refreshed in one gate refresh, and such refreshes in flight at once per process. */
  stockGateRefreshBatchMax: 256,
  stockGateRefreshesInFlightMax: 2,
} as const;
