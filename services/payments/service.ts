/**
 * The payments service the checkout activities call: one charge per order (cancelled at the PSP if
 * the saga stops waiting for it), one refund and one payout per seller parcel, and verified,
 * de-duplicated webhooks. Every call to the PSP carries an
 * idempotency key derived from business ids, and is recorded in Postgres before it is made, so any
 * retry (ours, Temporal's, a worker crash and restart) finds the earlier call instead of repeating it.
 */
import type { Pool } from 'pg';
import { createLedgerService } from '../ledger';
import { createOrdersService } from '../orders';
import type { Logger } from 'pino';
import { AppError, BusinessError, NotFoundError, ValidationError, type FieldIssue } from '../../lib/errors';
import { createPayoutBooks, createPayoutMetrics, defaultPaymentsLogger, payoutPending, type PayoutBooks, type PayoutMetrics } from './payouts';
import { inTransaction } from '../../db/pool';
import * as store from './store';
import type {
  ChargeResult,
  GatewayCharge,
  PaymentEvent,
  PaymentGateway,
  PaymentRecord,
  PayoutRecord,
  PayoutResult,
  PendingPayoutsResult,
  RefundResult,
  SettleOrCancelResult,
  WebhookOutcome,
} from './types';
import { idLimits } from '../../lib/vocabulary';

export interface PaymentsDeps {
  pool: Pool;
  gateway: PaymentGateway;
  /** Milliseconds since the epoch; injectable so tests can check the webhook timestamp tolerance. */
  clock?: () => number;
  /** Payout problems (a seller without account, a late transfer that failed); default pino to stdout. */
  log?: Logger;
  /** Default: counters on prom-client's global registry. */
  metrics?: PayoutMetrics;
  /** The ledger and parcel bookkeeping of a payout paid late; default: the ledger and orders services on `pool`. */
  books?: PayoutBooks;
}

export interface PaymentsService {
  /** The HTTP header that carries the active gateway's webhook signature (lower case). */
  readonly signatureHeader: string;
  /**
   * Charges an order once (idempotency key `charge:<orderId>`). Resolves with `succeeded` or
   * `processing` (the outcome then arrives by webhook); throws BusinessError PAYMENT_DECLINED
   * (non-retryable) when the payment is declined or failed, and a plain Error when the PSP could
   * not be reached (retry: the same key finds the same charge). A payment cancelled by
   * settleOrCancel is BusinessError PAYMENT_TIMEOUT.
   */
  charge(orderId: string, amountMinor: number, currency: string, token: string): Promise<ChargeResult>;
  /**
   * The saga stopped waiting for the payment: asks the PSP what became of it and, if it is still
   * pending there, cancels it (key `cancel:<orderId>`). `succeeded` (also when the cancel lost the
   * race against the success), `canceled`, `failed` (declined or failed), `none` (no payment).
   * Idempotent: the answer is recorded, a repeat answers the same without a second cancel. A plain
   * Error (retry) when the PSP cannot be reached, when the charge call itself has not completed
   * (status pending), or when the PSP will not cancel a payment that is still processing.
   */
  settleOrCancel(orderId: string): Promise<SettleOrCancelResult>;
  /**
   * Refunds one seller parcel (key `refund:<orderId>:<sellerId>`); never more than was charged in
   * total. BusinessError REFUND_REFUSED (non-retryable) when the PSP refuses to refund (e.g. a
   * disputed charge): the refund stays reserved, and calling again retries the PSP with the same key.
   */
  refund(orderId: string, sellerId: string, amountMinor: number): Promise<RefundResult>;
  /**
   * Pays a released parcel out to the seller's connected account (key `payout:<orderId>:<sellerId>`).
   * A seller without a connected account: the payout is recorded `awaiting_account` (metric, log
   * line with order and seller) and BusinessError PAYOUT_PENDING (non-retryable) says so; it is
   * paid by payPendingPayouts once the account is set. BusinessError PAYOUT_REFUSED when the PSP
   * refuses the transfer; calling again later retries with the same key.
   */
  payout(orderId: string, sellerId: string, amountMinor: number): Promise<PayoutResult>;
  /**
   * Pays every payout the seller is owed (awaiting an account, or a transfer that failed) to its
   * current connected account, each with its own key, then posts its ledger payout_paid entry and
   * clears the parcel's PAYOUT_PENDING problem. A transfer that fails stays owed, its reason
   * recorded; calling again retries it. Never throws for one payout's failure.
   */
  payPendingPayouts(sellerId: string): Promise<PendingPayoutsResult>;
  /** The seller's payouts not transferred yet, oldest first. */
  unpaidPayouts(sellerId: string): Promise<PayoutRecord[]>;
  /** The order's payment, refreshed from the PSP while it is processing (unless refresh is false); null if none. */
  getPayment(orderId: string, options?: { refresh?: boolean }): Promise<PaymentRecord | null>;
  /** Verifies a webhook's signature and parses it (INVALID_SIGNATURE otherwise); undefined for ignored types. */
  verifyWebhook(rawBody: string | Buffer, signature: string | undefined): PaymentEvent | undefined;
  /** Stores a verified event; true when its id is new. */
  recordWebhookEvent(event: PaymentEvent): Promise<boolean>;
  /** verifyWebhook + recordWebhookEvent + its effect on the records, the last two in one transaction. */
  handleWebhook(rawBody: string | Buffer, signature: string | undefined): Promise<WebhookOutcome>;
}

/** Limits of the inputs (ids become part of PSP idempotency keys, at most 255 characters). */
export const paymentLimits = { idLengthMax: idLimits.externalIdLengthMax, tokenLengthMax: 255, amountMinorMax: Number.MAX_SAFE_INTEGER } as const;

/** Percent-encoding keeps keys unambiguous whatever the ids contain (a ':' never acts as a separator). */
const part = (id: string): string => encodeURIComponent(id);

export const paymentKeys = {
  charge: (orderId: string): string => `charge:${part(orderId)}`,
  refund: (orderId: string, sellerId: string): string => `refund:${part(orderId)}:${part(sellerId)}`,
  payout: (orderId: string, sellerId: string): string => `payout:${part(orderId)}:${part(sellerId)}`,
  cancel: (orderId: string): string => `cancel:${part(orderId)}`,
} as const;

function idIssue(value: unknown, path: string, issues: FieldIssue[]): void {
  const ok = typeof value === 'string' && value.length > 0 && value.length <= paymentLimits.idLengthMax && /^[^\p{Cc}]+$/u.test(value);
  if (!ok) issues.push({ path, message: `must be 1-${paymentLimits.idLengthMax} printable characters` });
  else {
    try {
      part(value);
    } catch {
      issues.push({ path, message: 'must be valid Unicode text' });
    }
  }
}

function amountIssue(value: unknown, path: string, issues: FieldIssue[]): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    issues.push({ path, message: 'must be a non-negative integer of minor units' });
  }
}

function check(issues: FieldIssue[]): void {
  if (issues.length > 0) throw new ValidationError(issues);
}

function declined(payment: PaymentRecord): BusinessError {
  return new BusinessError('PAYMENT_DECLINED', `the payment of order ${payment.orderId} was ${payment.status === 'failed' ? 'not completed' : 'declined'}`, {
    orderId: payment.orderId,
    paymentId: payment.paymentId,
    status: payment.status,
    declineCode: payment.declineCode,
  });
}

/** A refund the PSP accepted and then reported failed: final for that refund (its reservation was given back). */
function refundFailed(orderId: string, sellerId: string, refundId: string | null): BusinessError {
  return new BusinessError('REFUND_REFUSED', `the PSP could not refund parcel ${sellerId} of order ${orderId}`, { orderId, sellerId, refundId, pspCode: 'refund_failed' });
}

function toChargeResult(payment: PaymentRecord): ChargeResult {
  if (payment.status === 'declined' || payment.status === 'failed') throw declined(payment);
  if (payment.status === 'canceled') {
    // Only settleOrCancel cancels, when the saga's wait for the outcome ran out.
    throw new BusinessError('PAYMENT_TIMEOUT', `the payment of order ${payment.orderId} was cancelled before it succeeded`, {
      orderId: payment.orderId,
      paymentId: payment.paymentId,
      status: payment.status,
    });
  }
  if (payment.status === 'pending') {
    // Not an outcome: the PSP has not answered yet. A plain Error, so the caller retries with the same key.
    throw new Error(`the charge of order ${payment.orderId} is still pending at the payment service provider`);
  }
  return { orderId: payment.orderId, paymentId: payment.paymentId, status: payment.status, amountMinor: payment.amountMinor, currency: payment.currency };
}

export function createPaymentsService({ pool, gateway, clock = Date.now, ...deps }: PaymentsDeps): PaymentsService {
  const log = deps.log ?? defaultPaymentsLogger();
  const metrics = deps.metrics ?? createPayoutMetrics();
  const books = deps.books ?? createPayoutBooks({ ledger: createLedgerService({ pool }), orders: createOrdersService({ pool }) });

  /**
   * Where a seller's payouts go: its connected account in the catalog (sellers.stripe_account_id),
   * else what the gateway knows (the simulator invents one); null when the seller has none.
   */
  async function destinationOf(sellerId: string): Promise<string | null> {
    const account = await store.sellerAccountOf(pool, sellerId);
    if (account) return account;
    try {
      return await gateway.sellerDestination(sellerId);
    } catch (err) {
      if (err instanceof AppError && err.code === 'PAYOUT_REFUSED' && err.details.reason === 'no_connected_account') return null;
      throw err;
    }
  }

  /**
   * Transfers a recorded payout with its key, runs `afterTransfer` (idempotent) before the payout is
   * marked paid, so a crash in between repeats both (the same key finds the same transfer). A
   * refusal or failure is recorded on the payout (last_error) and thrown.
   */
  async function transfer(row: store.PayoutRow, destination: string, options: { afterTransfer?: () => Promise<void> } = {}): Promise<string> {
    const { order_id: orderId, seller_id: sellerId } = row;
    try {
      const result = await gateway.transfer({ idempotencyKey: row.idempotency_key, orderId, sellerId, destination, amountMinor: Number(row.amount_minor), currency: row.currency });
      await options.afterTransfer?.();
      await store.recordPayout(pool, orderId, sellerId, result.transferId);
      return result.transferId;
    } catch (err) {
      await store.recordPayoutFailure(pool, orderId, sellerId, err instanceof Error ? err.message : String(err)).catch(() => undefined);
      throw err;
    }
  }

  /** Records what the PSP said, never moving backwards, and asserts one PSP payment per order. */
  async function record(orderId: string, charge: GatewayCharge): Promise<PaymentRecord> {
    const updated = await store.recordCharge(pool, orderId, charge);
    const payment = updated ?? (await store.findPayment(pool, orderId));
    if (!payment) throw new Error(`payment of order ${orderId} disappeared`);
    if (charge.paymentId !== '' && payment.paymentId !== null && payment.paymentId !== charge.paymentId) {
      // Must never happen: the same idempotency key always finds the same PSP payment.
      throw new Error(`order ${orderId} has two PSP payments: ${payment.paymentId} and ${charge.paymentId}`);
    }
    return payment;
  }

  async function refresh(payment: PaymentRecord): Promise<PaymentRecord> {
    if (payment.status !== 'processing' || payment.paymentId === null) return payment;
    return record(payment.orderId, await gateway.getCharge(payment.paymentId));
  }

  /**
   * Cancels a processing payment at the PSP and records what the PSP says. The PSP refuses
   * (INVALID_STATE) when the payment succeeded after our refresh: then its current state is the answer.
   */
  async function cancelAtPsp(payment: PaymentRecord, paymentId: string): Promise<PaymentRecord> {
    let charge: GatewayCharge;
    try {
      charge = await gateway.cancel({ idempotencyKey: paymentKeys.cancel(payment.orderId), paymentId, orderId: payment.orderId });
    } catch (err) {
      if (!(err instanceof AppError && err.code === 'INVALID_STATE')) throw err;
      charge = await gateway.getCharge(paymentId);
    }
    const recorded = await record(payment.orderId, charge);
    if (charge.status === 'canceled' && recorded.status === 'succeeded') {
      // Must never happen: the PSP cancelled a payment we recorded as taken.
      throw new Error(`order ${payment.orderId}: the PSP cancelled payment ${paymentId}, which is recorded as succeeded`);
    }
    return recorded;
  }

  return {
    signatureHeader: gateway.signatureHeader,

    async charge(orderId, amountMinor, currency, token) {
      const issues: FieldIssue[] = [];
      idIssue(orderId, 'orderId', issues);
      amountIssue(amountMinor, 'amountMinor', issues);
      if (typeof currency !== 'string' || !/^[A-Z]{3}$/.test(currency)) issues.push({ path: 'currency', message: 'must be an upper-case ISO 4217 code' });
      if (typeof token !== 'string' || token.length === 0 || token.length > paymentLimits.tokenLengthMax) issues.push({ path: 'token', message: 'must be a payment token' });
      check(issues);

      const idempotencyKey = paymentKeys.charge(orderId);
      // A zero total (fully discounted order) needs no card charge: it succeeds without the PSP.
      const via = amountMinor === 0 ? 'none' : gateway.name;
      let payment = await store.ensurePayment(pool, { orderId, gateway: via, idempotencyKey, amountMinor, currency });
      if (payment.amountMinor !== amountMinor || payment.currency !== currency) {
        throw new BusinessError(
          'IDEMPOTENCY_KEY_REUSED',
          `order ${orderId} was already charged ${payment.amountMinor} ${payment.currency}, not ${amountMinor} ${currency}`,
          { orderId, amountMinor: payment.amountMinor, currency: payment.currency },
          'conflict',
        );
      }
      if (payment.status === 'pending' && payment.gateway === 'none') {
        payment = await record(orderId, { paymentId: '', status: 'succeeded', amountMinor, currency, declineCode: null });
      } else if (payment.status === 'processing') {
        payment = await refresh(payment);
      } else if (payment.status === 'pending') {
        const charge = await gateway.charge({ idempotencyKey, orderId, amountMinor, currency, token });
        if (charge.status !== 'declined' && (charge.amountMinor !== amountMinor || charge.currency !== currency)) {
          throw new Error(`the PSP reports ${charge.amountMinor} ${charge.currency} for order ${orderId}, expected ${amountMinor} ${currency}`);
        }
        payment = await record(orderId, charge);
      }
      return toChargeResult(payment);
    },

    async settleOrCancel(orderId) {
      const issues: FieldIssue[] = [];
      idIssue(orderId, 'orderId', issues);
      check(issues);
      const found = await store.findPayment(pool, orderId);
      if (!found) return { orderId, paymentId: null, status: 'none' };
      let payment = await refresh(found);
      if (payment.status === 'processing' && payment.paymentId !== null) payment = await cancelAtPsp(payment, payment.paymentId);
      switch (payment.status) {
        case 'succeeded':
        case 'canceled':
          return { orderId, paymentId: payment.paymentId, status: payment.status };
        case 'declined':
        case 'failed':
          return { orderId, paymentId: payment.paymentId, status: 'failed' };
        case 'processing':
          // The PSP refused to cancel a payment it is still processing (Stripe may, for some methods): it will settle.
          throw new Error(`the payment of order ${orderId} is still processing and the PSP will not cancel it; ask again once it settles`);
        case 'pending':
          // Not an outcome: the charge call has not completed, so the PSP payment (if any) is unknown.
          throw new Error(`the charge of order ${orderId} is still pending: complete the charge call (same key) first`);
      }
    },

    async refund(orderId, sellerId, amountMinor) {
      const issues: FieldIssue[] = [];
      idIssue(orderId, 'orderId', issues);
      idIssue(sellerId, 'sellerId', issues);
      amountIssue(amountMinor, 'amountMinor', issues);
      check(issues);
      if (amountMinor === 0) return { orderId, sellerId, refundId: null, status: 'succeeded', amountMinor };

      const payment = await store.findPayment(pool, orderId);
      if (!payment) throw new NotFoundError('payment', orderId);
      const idempotencyKey = paymentKeys.refund(orderId, sellerId);
      await inTransaction(pool, async (client) => {
        if ((await store.reserveRefund(client, { orderId, sellerId, idempotencyKey, amountMinor })) !== 'exceeds') return;
        const now = await store.findPayment(client, orderId);
        if (now?.status !== 'succeeded') {
          throw new BusinessError('INVALID_STATE', `the payment of order ${orderId} is ${now?.status ?? 'missing'}; only a succeeded payment can be refunded`, { orderId }, 'conflict');
        }
        throw new BusinessError('REFUND_EXCEEDS_CHARGE', `refunding ${amountMinor} more would exceed the charge of order ${orderId}`, {
          orderId,
          sellerId,
          amountMinor,
          chargedMinor: now.amountMinor,
          refundedMinor: now.refundedMinor,
        });
      });
      const row = await store.findRefund(pool, orderId, sellerId);
      if (!row) throw new Error(`refund of parcel ${sellerId} of order ${orderId} was neither inserted nor found`);
      if (Number(row.amount_minor) !== amountMinor) {
        throw new BusinessError('IDEMPOTENCY_KEY_REUSED', `parcel ${sellerId} of order ${orderId} was already refunded ${row.amount_minor}`, { orderId, sellerId }, 'conflict');
      }
      if (row.status === 'succeeded') return { orderId, sellerId, refundId: row.refund_id, status: 'succeeded', amountMinor };
      if (row.status === 'failed') throw refundFailed(orderId, sellerId, row.refund_id);
      if (payment.paymentId === null) throw new Error(`order ${orderId} has no PSP payment to refund`);

      // A refusal (REFUND_REFUSED from the gateway) leaves the refund pending and reserved: the buyer
      // is still owed it, and a later call retries the PSP with the same key.
      const refund = await gateway.refund({ idempotencyKey: row.idempotency_key, paymentId: payment.paymentId, orderId, sellerId, amountMinor });
      const recorded = await store.recordRefund(pool, orderId, sellerId, refund.refundId, refund.status);
      const status = recorded?.status ?? refund.status;
      if (status === 'failed') throw refundFailed(orderId, sellerId, refund.refundId);
      return { orderId, sellerId, refundId: refund.refundId, status, amountMinor };
    },

    async payout(orderId, sellerId, amountMinor) {
      const issues: FieldIssue[] = [];
      idIssue(orderId, 'orderId', issues);
      idIssue(sellerId, 'sellerId', issues);
      amountIssue(amountMinor, 'amountMinor', issues);
      check(issues);
      const payment = await store.findPayment(pool, orderId);
      if (!payment) throw new NotFoundError('payment', orderId);
      if (amountMinor === 0) return { orderId, sellerId, transferId: null, amountMinor, currency: payment.currency };
      const destination = await destinationOf(sellerId);
      const idempotencyKey = paymentKeys.payout(orderId, sellerId);
      const row = await store.ensurePayout(pool, { orderId, sellerId, idempotencyKey, amountMinor, destination });
      if (!row) throw new BusinessError('INVALID_STATE', `the payment of order ${orderId} has not succeeded`, { orderId }, 'conflict');
      if (Number(row.amount_minor) !== amountMinor) {
        throw new BusinessError('IDEMPOTENCY_KEY_REUSED', `parcel ${sellerId} of order ${orderId} was already paid out ${row.amount_minor}`, { orderId, sellerId }, 'conflict');
      }
      let transferId = row.transfer_id;
      if (row.status !== 'succeeded') {
        if (row.destination === null) {
          metrics.awaitingAccount();
          log.warn({ orderId, sellerId, amountMinor, currency: row.currency, payoutStatus: row.status }, 'payout pending: the seller has no connected account');
          throw payoutPending(orderId, sellerId, amountMinor, row.currency);
        }
        transferId = await transfer(row, row.destination);
      }
      return { orderId, sellerId, transferId, amountMinor, currency: row.currency };
    },

    async payPendingPayouts(sellerId) {
      const issues: FieldIssue[] = [];
      idIssue(sellerId, 'sellerId', issues);
      check(issues);
      const destination = await destinationOf(sellerId);
      const owed = destination === null ? await store.unpaidPayoutsOf(pool, sellerId) : await store.retargetUnpaidPayouts(pool, sellerId, destination);
      const paid: PayoutRecord[] = [];
      const unpaid: PayoutRecord[] = [];
      // One at a time: a seller's backlog is small, and a failure must not stop the others.
      for (const row of owed) {
        if (row.destination === null) {
          unpaid.push(store.toPayoutRecord(row));
          continue;
        }
        try {
          const transferId = await transfer(row, row.destination, { afterTransfer: () => books.payoutPaid(row.order_id, row.seller_id) });
          paid.push({ ...store.toPayoutRecord(row), status: 'succeeded', transferId, lastError: null });
          metrics.settledLate('paid');
          log.info({ orderId: row.order_id, sellerId, transferId, amountMinor: Number(row.amount_minor) }, 'pending payout paid');
        } catch (err) {
          const reason = err instanceof Error ? err.message : String(err);
          metrics.settledLate('failed');
          log.error({ orderId: row.order_id, sellerId, err: reason }, 'pending payout still unpaid: its transfer failed');
          unpaid.push({ ...store.toPayoutRecord(row), status: 'pending', lastError: reason });
        }
      }
      return { sellerId, paid, unpaid };
    },

    async unpaidPayouts(sellerId) {
      return (await store.unpaidPayoutsOf(pool, sellerId)).map(store.toPayoutRecord);
    },

    async getPayment(orderId, options = {}) {
      const payment = await store.findPayment(pool, orderId);
      if (!payment) return null;
      return options.refresh === false ? payment : refresh(payment);
    },

    verifyWebhook(rawBody, signature) {
      return gateway.parseWebhook(rawBody, signature, clock());
    },

    recordWebhookEvent(event) {
      return store.insertEvent(pool, event);
    },

    async handleWebhook(rawBody, signature) {
      const parsed = gateway.parseWebhook(rawBody, signature, clock());
      if (!parsed) return { event: undefined, isNew: false, applied: false, knownOrder: false, forSaga: false };
      // Stripe's charge events name the PaymentIntent but not always our order: find it by the payment.
      const event = parsed.data.orderId === '' ? { ...parsed, data: { ...parsed.data, orderId: (await store.orderOfPayment(pool, parsed.data.paymentId)) ?? '' } } : parsed;
      // Recording the event and applying it commit together: a crash in between must not leave an
      // event that is "seen" (so never applied again) but had no effect.
      return inTransaction(pool, async (client) => {
        const isNew = await store.insertEvent(client, event);
        const payment = await store.paymentFlagsOf(client, event.data.orderId);
        const knownOrder = payment.known;
        const applied = isNew && knownOrder ? await store.applyEvent(client, event) : false;
        // Only a payment outcome the saga may be waiting for is worth a signal (and a workflow task).
        // (applyEvent never changes outcome_from_charge, so reading it before is the same.)
        const forSaga = event.type !== 'refund.succeeded' && !payment.outcomeFromCharge;
        return { event, isNew, applied, knownOrder, forSaga };
      });
    },
  };
}
